/**
 * `dnssd autocomplete`: a bash completion script generated from the command
 * manifest (commands, topics, flags, the fixed choices of flags and
 * arguments), so it can never drift from the CLI it completes. zsh loads it
 * through bashcompinit. Own code rather than @oclif/plugin-autocomplete:
 * that plugin exports none of its command classes, so it can only be loaded
 * as a plugin from disk, which the single executables do not have; and it
 * writes cache files and edits shell start-up files, where this prints one
 * script to stdout.
 */

export interface CompletionCommand {
  id: string
  hidden?: boolean
  flags: Record<string, {type: string; char?: string; options?: readonly string[]; hidden?: boolean}>
  args: Record<string, {options?: readonly string[]}>
}

export const SHELLS = ['bash', 'zsh'] as const
export type Shell = (typeof SHELLS)[number]

/** A word for a bash case pattern or word list: only the characters command and flag names use. */
function word(text: string): string {
  if (!/^[A-Za-z0-9._:/@+-]+$/.test(text)) throw new Error(`cannot complete ${JSON.stringify(text)}`)
  return text
}

export function completionScript(bin: string, shell: Shell, commands: readonly CompletionCommand[]): string {
  const visible = commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_complete`
  // Completions of the command words: the first word, and the second after a topic.
  const first = [...new Set(visible.map((c) => c.id.split(':')[0]!))]
  const topics = [...new Set(visible.filter((c) => c.id.includes(':')).map((c) => c.id.split(':')[0]!))]
  const lines: string[] = [
    `# ${bin} completion for ${shell}, generated from its commands by \`${bin} autocomplete ${shell}\`.`,
    `# Load it from ${shell === 'bash' ? '~/.bashrc' : '~/.zshrc'}: eval "$(${bin} autocomplete ${shell})"`,
  ]
  if (shell === 'zsh') lines.push('autoload -U +X bashcompinit && bashcompinit')
  lines.push(
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}',
    '  local -a words=()',
    '  local w',
    '  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do',
    '    case $w in -*) break ;; esac',
    '    words+=("$w")',
    '  done',
    '  local cmd=${words[0]:-} rest=1',
    `  case $cmd in ${topics.length > 0 ? topics.map(word).join('|') : '__none__'}) cmd="$cmd:\${words[1]:-}"; rest=2 ;; esac`,
    '  if [ ${#words[@]} -eq 0 ]; then',
    `    COMPREPLY=($(compgen -W '${first.map(word).join(' ')}' -- "$cur")); return`,
    '  fi',
  )
  for (const topic of topics) {
    const subs = visible.filter((c) => c.id.startsWith(`${topic}:`)).map((c) => word(c.id.slice(topic.length + 1)))
    lines.push(`  if [ "\${words[0]}" = ${word(topic)} ] && [ \${#words[@]} -eq 1 ]; then`, `    COMPREPLY=($(compgen -W '${subs.join(' ')}' -- "$cur")); return`, '  fi')
  }
  lines.push('  local flags="" choices="" args=""', '  case $cmd in')
  for (const c of visible) {
    const flags = Object.entries(c.flags).filter(([, f]) => !f.hidden)
    const names = flags.flatMap(([name, f]) => [`--${word(name)}`, ...(f.char ? [`-${word(f.char)}`] : [])])
    const withChoices = flags.filter(([, f]) => f.type === 'option' && f.options && f.options.length > 0)
    // `help` takes a command name.
    const argChoices = c.id === 'help' ? first : Object.values(c.args).flatMap((a) => a.options ?? [])
    lines.push(`    ${word(c.id)})`, `      flags='${names.join(' ')}'`)
    if (withChoices.length > 0) {
      lines.push('      case $prev in')
      for (const [name, f] of withChoices) lines.push(`        --${word(name)}${f.char ? `|-${word(f.char)}` : ''}) choices='${f.options!.map(word).join(' ')}' ;;`)
      lines.push('      esac')
    }
    if (argChoices.length > 0) lines.push(`      args='${argChoices.map(word).join(' ')}'`)
    lines.push('      ;;')
  }
  lines.push(
    '  esac',
    '  if [ -n "$choices" ]; then COMPREPLY=($(compgen -W "$choices" -- "$cur")); return; fi',
    '  case $cur in -*) COMPREPLY=($(compgen -W "$flags" -- "$cur")); return ;; esac',
    '  # An argument with fixed choices, until one is given.',
    '  if [ -n "$args" ] && [ ${#words[@]} -eq $rest ]; then COMPREPLY=($(compgen -W "$args" -- "$cur")); return; fi',
    '  COMPREPLY=($(compgen -f -- "$cur"))',
    '}',
    `complete -F ${fn} ${word(bin)}`,
    '',
  )
  return lines.join('\n')
}
