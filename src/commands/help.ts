import {Args, loadHelpClass} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'

export default class Help extends DnssdCommand {
  static override summary = 'Show help for dnssd or one of its commands (also: -h, --help)'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help join', '<%= config.bin %> help policy route53']
  static override enableJsonFlag = false
  static override strict = false
  static override args = {
    command: Args.string({description: 'command to show help for; a topic and its command as two words (policy route53)'}),
  }

  async run(): Promise<void> {
    const {argv} = await this.parse(Help)
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(argv as string[])
  }
}
