// Stands in for node:module in bundles (scripts/bundle.mjs). dnssd imports
// only createRequire from it: for dns-packet (src/dns/wire.ts; a bundle has
// no node_modules beside it, so the name comes from the bundle: esbuild sees
// the literal require() below and bundles the package) and for built-ins it
// loads when first needed (node:os, node:net, node:crypto). node:module itself
// is loaded only for any other name: loading it brings node's ESM loader
// modules, which a light command has no use for.
const BUNDLED = {
  'dns-packet': () => require('dns-packet'),
}

export function createRequire(url) {
  return (id) => {
    if (Object.hasOwn(BUNDLED, id)) return BUNDLED[id]()
    if (id.startsWith('node:')) return require(id)
    return require('module').createRequire(url)(id)
  }
}
