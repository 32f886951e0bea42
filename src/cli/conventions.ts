/**
 * What every oclif CLI is expected to answer before a command runs, without
 * loading oclif (src/main.ts calls this first; it answers `-v`, `--version`
 * and `version` itself):
 * - a first word that names no command: one line (or a JSON error under
 *   --json) with the nearest command, exit 2, instead of oclif's
 *   "command not found" box. `dnssd help WORD` is checked the same way.
 * `help`, `-h` and `version --json` are oclif's (src/commands/help.ts,
 * src/commands/version.ts, package.json oclif.additionalHelpFlags).
 */
import {DnssdError} from '../core/errors.js'

/** The command argv names, or the "is not a dnssd command" error; undefined when argv starts with a flag. */
export async function unknownCommand(argv: readonly string[], ids: readonly string[]): Promise<DnssdError | undefined> {
  const words = argv[0] === 'help' ? argv.slice(1) : argv
  const end = words.findIndex((w) => w.startsWith('-'))
  const given = (end < 0 ? words : words.slice(0, end)).slice(0, 2)
  if (given.length === 0) return undefined
  if (ids.includes(given[0]!)) return undefined
  const topics = new Set(ids.filter((id) => id.includes(':')).map((id) => id.split(':')[0]!))
  // A topic alone shows its commands (oclif); a topic and a word must name one of them.
  if (topics.has(given[0]!) && (given.length === 1 || ids.includes(given.join(':')))) return undefined
  const typed = topics.has(given[0]!) ? given.join(' ') : given[0]!
  const names = ids.map((id) => id.replaceAll(':', ' '))
  const {closest, distance} = await import('fastest-levenshtein')
  const nearest = closest(typed, names)
  // Close enough to be a typo: a third of the word, at least two edits.
  const near = distance(typed, nearest) <= Math.max(2, Math.floor(typed.length / 3))
  return new DnssdError('bad-input', `${JSON.stringify(typed)} is not a dnssd command${near ? `; did you mean ${JSON.stringify(nearest)}?` : ''} (see dnssd help)`)
}
