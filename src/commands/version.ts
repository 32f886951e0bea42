import {DnssdCommand} from '../cli/base.js'

export interface VersionResult {
  name: string
  version: string
  platform: string
  arch: string
  node: string
}

export default class Version extends DnssdCommand {
  static override summary = 'Print the name and version of dnssd, the platform and Node.js (also: -v, --version)'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  async run(): Promise<VersionResult> {
    await this.parse(Version)
    this.say(this.config.userAgent)
    return {name: this.config.name, version: this.config.version, platform: process.platform, arch: process.arch, node: process.version}
  }
}
