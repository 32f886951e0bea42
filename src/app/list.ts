/**
 * `list`: the zone as a DNS-SD browser sees it, and with a registry, each
 * member's lease beside what DNS holds.
 */
import {type InventoryService, inventory} from '../core/inventory.js'
import {openProvider} from '../providers/catalog.js'
import {type ProviderKind} from '../providers/provider.js'
import {type LeaseDrift} from '../registry/drift.js'
import {type AppEnv, type ListRequest} from './request.js'

export interface ListResult {
  zone: string
  provider: ProviderKind
  services: InventoryService[]
  leases?: LeaseDrift
}

export async function list(request: ListRequest, env: AppEnv): Promise<ListResult> {
  const {zone, serviceType, deadline} = request
  const provider = await openProvider(request.provider, {deadline, log: env.log})
  try {
    const state = await provider.read(zone, 'all')
    const services = inventory(state, zone, serviceType)
    if (!request.registry) return {zone, provider: provider.kind, services}
    // The registry's modules only for a list that reads one.
    const [{leaseDrift}, {openRegistry}] = await Promise.all([import('../registry/drift.js'), import('../registry/open.js')])
    const registry = await openRegistry(request.registry, {deadline, log: env.log})
    try {
      const leases = leaseDrift(state, zone, await registry.list(zone), registry.url, serviceType)
      return {zone, provider: provider.kind, services, leases}
    } finally {
      await registry.close()
    }
  } finally {
    await provider.close()
  }
}
