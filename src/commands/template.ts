import {writeFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'
import {checkFlags, identityFlags, portFlag, providerFlags, recordFlags, registryFlag, rfc2136Flags} from '../cli/flags.js'
import {parseSeconds} from '../core/names.js'
import {TEMPLATE_KINDS, type TemplateKind, buildSpec, render} from '../templates/render.js'

export interface TemplateResult {
  kind: TemplateKind
  bytes: number
  out?: string
  upload?: string
  etag?: string
  /** Under --json without --out or --upload: what would have gone to stdout. */
  text?: string
}

const CONTENT_TYPES: Record<TemplateKind, string> = {
  ec2: 'text/cloud-config',
  'ec2-script': 'text/x-shellscript',
  joyent: 'text/x-shellscript',
  systemd: 'text/plain',
  'systemd-renew': 'text/plain',
  'systemd-renew-timer': 'text/plain',
  sysv: 'text/x-shellscript',
  smf: 'application/xml',
}

/**
 * A setting of the machine that runs `template` (its provider, data
 * directory, registry, ...) is not the instance's: such flags read no
 * environment variable, so an exported DNSSD_DATA_DIR or DNSSD_PROVIDER
 * never lands in a unit. Only the member's own description (zone, service,
 * host, port, priority, weight, ttl, TXT, A record, address source) does.
 */
function commandLineOnly<T extends {env?: string}>(flag: T): T {
  return {...flag, env: undefined}
}

export default class Template extends DnssdCommand {
  static override summary = 'Print boot user-data, a systemd unit, an init script or an SMF manifest that joins at boot and leaves at shutdown'
  static override description = `KIND is one of:
  ec2         cloud-init #cloud-config: installs dnssd, writes and enables a systemd unit
  ec2-script  the same as a #!/bin/bash user-data script
  joyent      Triton user-script: SMF on SmartOS, systemd on Linux images
  systemd     the unit alone (ExecStart join, ExecStop leave --timeout)
  sysv        an /etc/init.d script (start|stop|restart|status)
  smf         the SmartOS manifest alone
dnssd is installed either as the single executable (--binary-url, with its
pinned --binary-sha256: no runtime at boot) or from npm with Node.js 22+.
The instance finds its address at boot (--ip auto). Every value is validated
and quoted for the file it lands in, so no value can run as code. Credentials
never go into a template: on EC2 the instance role supplies them, elsewhere
the environment file /etc/dnssd/NAME.env (mode 0600).`

  static override examples = [
    '<%= config.bin %> template ec2 --zone example.com --service _v1._web._tcp --port 8080 --provider route53 --set zone-id=Z0123456789 > user-data.yaml',
    '<%= config.bin %> template ec2-script -z example.com -s _v1._web._tcp -p 8080 --provider route53 --binary-url https://example.com/dnssd/0.1.0/dnssd-linux-arm64 --binary-sha256 <hex from SHA256SUMS>',
    '<%= config.bin %> template joyent -z example.com -s _http._tcp -p 80 --provider cloudflare --txt path=/ --out user-script.sh',
    '<%= config.bin %> template systemd -z example.com -s _v1._api._tcp -p 9000 --check http://127.0.0.1:9000/health',
    '<%= config.bin %> template ec2 -z example.com -s _v1._web._tcp -p 8080 --provider route53 --upload s3://my-bucket/boot/web.yaml',
    '<%= config.bin %> template systemd-renew-timer -z example.com -s _v1._web._tcp -p 8080 --registry s3://my-bucket/leases --lease 300',
  ]

  static override args = {
    kind: Args.string({description: 'what to write', options: [...TEMPLATE_KINDS], required: true}),
  }

  static override flags = {
    zone: identityFlags.zone,
    service: identityFlags.service,
    host: identityFlags.host,
    'ip-source': identityFlags['ip-source'],
    port: portFlag(),
    priority: recordFlags.priority,
    weight: recordFlags.weight,
    ttl: recordFlags.ttl,
    txt: recordFlags.txt,
    'a-record': recordFlags['a-record'],
    proxied: commandLineOnly(recordFlags.proxied),
    jitter: commandLineOnly(recordFlags.jitter),
    provider: commandLineOnly(providerFlags.provider),
    'data-dir': commandLineOnly(providerFlags['data-dir']),
    server: commandLineOnly(rfc2136Flags.server),
    'tsig-key-file': commandLineOnly(rfc2136Flags['tsig-key-file']),
    set: Flags.string({
      multiple: true,
      description: 'another provider flag for join and leave, NAME=VALUE (e.g. zone-id=Z0123456789); never a secret',
      helpGroup: 'BACKEND',
    }),
    check: commandLineOnly(checkFlags.check),
    'check-timeout': commandLineOnly(checkFlags['check-timeout']),
    registry: commandLineOnly(registryFlag),
    lease: Flags.string({
      description: 'with --registry: join writes a lease of this many seconds and a systemd timer renews it every third (ec2, ec2-script, systemd)',
      helpGroup: 'LEASE',
    }),
    timeout: Flags.string({description: 'join --timeout on the instance, seconds', default: '30', helpGroup: 'BACKEND'}),
    'leave-timeout': Flags.string({description: 'leave --timeout at shutdown, seconds', default: '10', helpGroup: 'BACKEND'}),
    name: Flags.string({description: 'name of the unit, init script and SMF service', default: 'dnssd', helpGroup: 'OUTPUT'}),
    bin: Flags.string({description: 'where the instance runs dnssd from', default: '/usr/local/bin/dnssd', helpGroup: 'OUTPUT'}),
    'binary-url': Flags.string({
      description: 'user-data downloads the dnssd executable from this http(s) URL (npm run dist: dnssd-linux-x64 / -arm64) instead of installing Node.js and npm',
      helpGroup: 'INSTALL',
    }),
    'binary-sha256': Flags.string({description: 'with --binary-url: its SHA-256 (SHA256SUMS); the instance refuses anything else', helpGroup: 'INSTALL'}),
    package: Flags.string({description: 'npm package spec the user-data installs with Node.js 22+ when there is no --binary-url [default: dnssd-cloud@<this version>]', helpGroup: 'INSTALL'}),
    out: Flags.string({char: 'o', description: 'write to this file instead of stdout', exclusive: ['upload'], helpGroup: 'OUTPUT'}),
    upload: Flags.string({description: 'put it in S3 at s3://BUCKET/KEY (AWS SDK credentials; AWS_ENDPOINT_URL_S3 honoured)', helpGroup: 'OUTPUT'}),
    'upload-timeout': Flags.string({description: 'seconds the upload may take (exit 5 after)', default: '30', helpGroup: 'OUTPUT'}),
    verbose: providerFlags.verbose,
  }

  async run(): Promise<TemplateResult> {
    const {args, flags} = await this.parse(Template)
    const kind = args.kind as TemplateKind
    const spec = buildSpec(flags, `${this.config.name}@${this.config.version}`)
    const upload = flags.upload ? await import('../templates/upload.js') : undefined
    const target = upload && flags.upload ? upload.parseS3Url(flags.upload) : undefined
    const timeout = parseSeconds(flags['upload-timeout'], '--upload-timeout')
    const text = await render(kind, spec)
    const result: TemplateResult = {kind, bytes: Buffer.byteLength(text)}
    if (upload && target) {
      const {uploadToS3} = upload
      // Counted from process start, so loading the SDK is inside the budget.
      const budget = Math.max(1, timeout * 1000 - performance.now())
      const put = await uploadToS3(target, text, CONTENT_TYPES[kind], budget, timeout, this.verboseLogger(flags.verbose))
      result.upload = `s3://${target.bucket}/${target.key}`
      result.etag = put.etag
      this.say(`uploaded ${kind} template (${result.bytes} bytes) to ${result.upload}`)
    } else if (flags.out) {
      await writeFile(flags.out, text, {mode: kind === 'smf' || kind.startsWith('systemd') ? 0o644 : 0o755})
      result.out = flags.out
      this.say(`wrote ${kind} template (${result.bytes} bytes) to ${flags.out}`)
    } else if (this.jsonEnabled()) {
      result.text = text
    } else {
      process.stdout.write(text)
    }
    return result
  }
}
