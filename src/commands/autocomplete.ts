import {Args} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'
import {type CompletionCommand, SHELLS, type Shell, completionScript} from '../cli/completion.js'

export default class Autocomplete extends DnssdCommand {
  static override summary = 'Print a shell completion script for dnssd (bash, or zsh through bashcompinit)'
  static override description = `Completes commands, flags, and the fixed choices of flags and arguments
(--provider, template KIND, ...). Load it from the shell's start-up file:
  bash: echo 'eval "$(dnssd autocomplete bash)"' >> ~/.bashrc
  zsh:  echo 'eval "$(dnssd autocomplete zsh)"' >> ~/.zshrc`

  static override examples = ['eval "$(<%= config.bin %> autocomplete bash)"', '<%= config.bin %> autocomplete zsh > ~/.dnssd-completion.zsh']
  static override enableJsonFlag = false
  static override args = {
    shell: Args.string({description: 'shell to complete in [default: bash]', options: [...SHELLS]}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Autocomplete)
    // The commands as the manifest describes them: every form (npm, bundle, executable) has it.
    process.stdout.write(completionScript(this.config.bin, (args.shell ?? 'bash') as Shell, this.config.commands as unknown as CompletionCommand[]))
  }
}
