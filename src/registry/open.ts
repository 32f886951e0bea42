/**
 * Open the store behind a registry URL. Apart from registry.ts (the types
 * both stores implement) so neither store imports the module that imports
 * it; the S3 SDK is loaded only when an s3:// registry is used.
 */
import {type Registry, type RegistryLocation, type RegistryOptions} from './registry.js'

export async function openRegistry(location: RegistryLocation, options: RegistryOptions): Promise<Registry> {
  if (location.kind === 'file') {
    const {checkPrivateDir} = await import('../platform/datadir.js')
    await checkPrivateDir(location.dir, 'lease registry')
    const {FileRegistry} = await import('./file.js')
    return new FileRegistry(location.dir, options)
  }
  const {S3Registry} = await import('./s3.js')
  return new S3Registry(location.bucket, location.prefix, options)
}
