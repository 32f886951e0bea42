#!/usr/bin/env node
// Start-up path: oclif reads oclif.manifest.json (built by `npm run build`) and
// imports only the invoked command. Keep this file free of heavy imports.
//
// @oclif/core checks its own engines range on import, loading semver and its
// package.json (~20-50 ms, a third of its start-up). package.json "engines"
// already states what dnssd needs, so skip it unless the user asked for it.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true'
// `resolve` runs on clients' hot paths: it parses its own flags (the same
// declarations) and skips loading oclif; help and parse errors still go to oclif.
const fast = process.argv[2] === 'resolve' && (await (await import('../dist/cli/fast-resolve.js')).fastResolve(process.argv.slice(3)))
if (!fast) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
