/**
 * Provider factory. Each backend is imported lazily, so a command pays only
 * for the SDK it uses (the Cloudflare SDK alone costs ~300 ms to load).
 */
import {InputError} from '../core/errors.js'
import {type DnsProvider, PROVIDER_KINDS, type ProviderKind, type ProviderOptions} from './provider.js'

export function parseProviderKind(value: string | undefined): ProviderKind {
  const kind = (value ?? 'file').trim().toLowerCase()
  if (!(PROVIDER_KINDS as readonly string[]).includes(kind)) {
    throw new InputError('--provider', `"${value}" is not a provider; use one of ${PROVIDER_KINDS.join(', ')}`)
  }
  return kind as ProviderKind
}

export async function createProvider(kind: ProviderKind, options: ProviderOptions): Promise<DnsProvider> {
  switch (kind) {
    case 'file': {
      const {FileProvider} = await import('./file.js')
      return new FileProvider(options)
    }
    case 'route53': {
      const {Route53Provider} = await import('./route53.js')
      return new Route53Provider(options)
    }
    case 'cloudflare': {
      const {CloudflareProvider} = await import('./cloudflare.js')
      return new CloudflareProvider(options)
    }
    case 'rfc2136': {
      const {Rfc2136Provider} = await import('./rfc2136.js')
      return new Rfc2136Provider(options)
    }
  }
}
