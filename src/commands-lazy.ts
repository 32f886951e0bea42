/**
 * Command loaders without the static imports of src/commands.ts, so a bundle
 * that imports this file evaluates only the command it runs.
 */
export const COMMAND_LOADERS: Record<string, () => Promise<{default: unknown}>> = {
  autocomplete: () => import('./commands/autocomplete.js'),
  help: () => import('./commands/help.js'),
  join: () => import('./commands/join.js'),
  leave: () => import('./commands/leave.js'),
  list: () => import('./commands/list.js'),
  'policy:rfc2136': () => import('./commands/policy/rfc2136.js'),
  'policy:route53': () => import('./commands/policy/route53.js'),
  reap: () => import('./commands/reap.js'),
  resolve: () => import('./commands/resolve.js'),
  serve: () => import('./commands/serve.js'),
  sync: () => import('./commands/sync.js'),
  template: () => import('./commands/template.js'),
  version: () => import('./commands/version.js'),
}
