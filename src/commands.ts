/**
 * Every command, by id: oclif's "explicit" command discovery (package.json
 * oclif.commands). One import list instead of a directory scan, so a bundle
 * (scripts/bundle.mjs, the single executables) carries all commands in one
 * file and oclif never looks for command files on disk.
 */
import Autocomplete from './commands/autocomplete.js'
import Help from './commands/help.js'
import Join from './commands/join.js'
import Leave from './commands/leave.js'
import List from './commands/list.js'
import PolicyRoute53 from './commands/policy/route53.js'
import PolicyRfc2136 from './commands/policy/rfc2136.js'
import Reap from './commands/reap.js'
import Resolve from './commands/resolve.js'
import Serve from './commands/serve.js'
import Sync from './commands/sync.js'
import Template from './commands/template.js'
import Version from './commands/version.js'

export const COMMANDS = {
  autocomplete: Autocomplete,
  help: Help,
  join: Join,
  leave: Leave,
  list: List,
  'policy:rfc2136': PolicyRfc2136,
  'policy:route53': PolicyRoute53,
  reap: Reap,
  resolve: Resolve,
  serve: Serve,
  sync: Sync,
  template: Template,
  version: Version,
}

