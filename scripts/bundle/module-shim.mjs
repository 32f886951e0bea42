// Stands in for node:module in bundles (scripts/bundle.mjs). dnssd loads
// dns-packet with createRequire(import.meta.url)('dns-packet') (src/dns/wire.ts);
// a bundle has no node_modules beside it, so the name comes from the bundle.
// esbuild sees the literal require() below and bundles the package.
import {createRequire as nodeCreateRequire} from 'module'

export * from 'module'

const BUNDLED = {
  'dns-packet': () => require('dns-packet'),
}

export function createRequire(url) {
  const fallback = nodeCreateRequire(url)
  return (id) => (Object.hasOwn(BUNDLED, id) ? BUNDLED[id]() : fallback(id))
}
