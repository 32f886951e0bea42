/**
 * Boot templates (`dnssd template KIND`): files under templates/userdata/
 * with @@PLACEHOLDER@@ slots. Every value a user gives is validated first,
 * then inserted only in a form quoted for the language around the slot
 * (POSIX shell, systemd command line, SMF method in XML), in ONE pass, so a
 * value is never re-read as template text and can never run as code.
 */
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {InputError} from '../core/errors.js'
import {memberForJoin} from '../core/membership.js'
import {parseSeconds} from '../core/names.js'
import {formatServer, parseServer} from '../dns/server-address.js'
import {parseRegistryUrl} from '../registry/registry.js'
import {parseHealthTarget} from '../platform/health.js'
import {parseIpSource} from '../platform/ipauto.js'

export const TEMPLATE_KINDS = ['ec2', 'ec2-script', 'joyent', 'systemd', 'systemd-renew', 'systemd-renew-timer', 'sysv', 'smf'] as const
export type TemplateKind = (typeof TEMPLATE_KINDS)[number]

/** templates/userdata next to dist/ (built) or src/ (tsx): two levels up from this file. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/userdata/', import.meta.url))

export interface TemplateInput {
  zone?: string
  service?: string
  port?: string
  host?: string
  priority?: string
  weight?: string
  ttl?: string
  txt?: string[]
  'a-record'?: string
  proxied?: boolean
  jitter?: string
  'ip-source'?: string
  provider?: string
  'data-dir'?: string
  server?: string
  'tsig-key-file'?: string
  set?: string[]
  check?: string
  'check-timeout'?: string
  timeout?: string
  'leave-timeout'?: string
  name?: string
  bin?: string
  package?: string
  'binary-url'?: string
  'binary-sha256'?: string
  registry?: string
  lease?: string
}

export interface TemplateSpec {
  name: string
  zone: string
  service: string
  bin: string
  packageSpec: string
  /** With --binary-url: the executable to download, and its pinned SHA-256 (lower-case hex). */
  binary?: {url: string; sha256: string}
  /** argv after the binary. */
  join: string[]
  leave: string[]
  startTimeout: number
  stopTimeout: number
  envFile: string
  /** With --registry/--lease: re-run join every `every` seconds (systemd timer). */
  renew?: {every: number}
}

const SECRET_NAME = /(token|secret|password|passwd|credential|private-key|api-key|access-key)/i

function noControl(input: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new InputError(input, `${JSON.stringify(value)} contains a control character (newline, tab, ...); boot templates take single-line values`)
  return value
}

/** Validate everything and build the argv of join and leave. Throws InputError (exit 2). */
/** defaultPackage: the npm spec of this build (name@version), installed when --package is not given. */
export function buildSpec(input: TemplateInput, defaultPackage: string): TemplateSpec {
  const txt = (input.txt ?? []).map((t) => noControl('--txt', t))
  // The address is resolved on the instance (--ip auto); a documentation address stands in for validation.
  const member = memberForJoin({
    zone: input.zone,
    service: input.service,
    port: input.port,
    ip: '192.0.2.1',
    host: input.host,
    priority: input.priority,
    weight: input.weight,
    ttl: input.ttl,
    txt: input.txt,
    aRecord: input['a-record'],
  })
  const ipSource = parseIpSource(input['ip-source'])
  const name = input.name ?? 'dnssd'
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) throw new InputError('--name', `"${name}" must be a lower-case letter then up to 39 letters, digits or hyphens (it names the unit and init script)`)
  const bin = input.bin ?? '/usr/local/bin/dnssd'
  if (!/^\/[A-Za-z0-9._+/-]+$/.test(bin) || bin.includes('/../')) throw new InputError('--bin', `"${bin}" must be an absolute path of letters, digits and . _ + - /`)
  const binary = binaryArguments(input)
  const packageSpec = noControl('--package', input.package ?? defaultPackage)
  if (packageSpec.trim() === '' || packageSpec.startsWith('-')) throw new InputError('--package', `"${packageSpec}" is not an npm package spec (name@version, a tarball URL or path)`)

  const provider = [`--provider=${input.provider ?? 'file'}`]
  if (input['data-dir']) provider.push(`--data-dir=${noControl('--data-dir', input['data-dir'])}`)
  if (input.server !== undefined) provider.push(`--server=${formatServer(parseServer(noControl('--server', input.server)))}`)
  if (input['tsig-key-file'] !== undefined) {
    const path = noControl('--tsig-key-file', input['tsig-key-file'])
    if (!path.startsWith('/')) throw new InputError('--tsig-key-file', `"${path}" must be an absolute path on the instance (the key file itself stays out of the template)`)
    provider.push(`--tsig-key-file=${path}`)
  }
  for (const raw of input.set ?? []) {
    const eq = raw.indexOf('=')
    const key = eq < 0 ? raw : raw.slice(0, eq)
    if (eq < 0 || !/^[a-z][a-z0-9-]*$/.test(key)) throw new InputError(`--set ${JSON.stringify(raw)}`, 'give a provider flag as NAME=VALUE, e.g. --set zone-id=Z0123456789')
    if (SECRET_NAME.test(key)) throw new InputError(`--set ${key}`, 'secrets do not belong in boot templates; put them in the environment file or use the instance role')
    if (['zone', 'service', 'port', 'ip', 'host', 'txt', 'provider', 'timeout', 'json', 'verbose', 'dry-run'].includes(key)) {
      throw new InputError(`--set ${key}`, `use --${key} itself`)
    }
    provider.push(`--${key}=${noControl(`--set ${key}`, raw.slice(eq + 1))}`)
  }
  if (input.provider === 'rfc2136' && !provider.some((a) => a.startsWith('--server='))) {
    throw new InputError('--server', 'the rfc2136 provider needs the primary to update on the instance: --server HOST[:PORT]')
  }
  const identity = [`--zone=${member.zone}`, `--service=${member.service.relative}`, '--ip=auto']
  if (ipSource) identity.push(`--ip-source=${ipSource}`)
  if (input.host) identity.push(`--host=${member.host}`)

  const join = ['join', ...identity, `--port=${member.port}`, `--priority=${member.priority}`, `--weight=${member.weight}`, `--ttl=${member.ttl}`]
  for (const t of txt) join.push(`--txt=${t}`)
  if (member.aRecord) join.push(`--a-record=${member.aRecord}`)
  if (input.proxied) {
    if (input.provider !== 'cloudflare') throw new InputError('--proxied', `is a cloudflare setting; this template's --provider is ${input.provider ?? 'file'}`)
    if (!member.aRecord) throw new InputError('--proxied', 'proxies the --a-record name; give --a-record NAME too')
    join.push('--proxied')
  }
  join.push(...provider)
  // The wait comes before join's --timeout starts, so it adds to the unit's start budget.
  const jitter = input.jitter === undefined || /^0+(\.0+)?$/.test(input.jitter.trim()) ? 0 : parseSeconds(input.jitter, '--jitter', 3600)
  if (jitter > 0) join.push(`--jitter=${jitter}`)
  const joinTimeout = parseSeconds(input.timeout ?? '30', '--timeout')
  join.push(`--timeout=${joinTimeout}`)
  let checkTimeout = 0
  if (input.check) {
    parseHealthTarget(noControl('--check', input.check))
    checkTimeout = parseSeconds(input['check-timeout'] ?? '60', '--check-timeout')
    join.push(`--check=${input.check.trim()}`, `--check-timeout=${checkTimeout}`)
  }
  const leaveTimeout = parseSeconds(input['leave-timeout'] ?? '10', '--leave-timeout')
  const leave = ['leave', ...identity, ...provider, `--timeout=${leaveTimeout}`]
  const renew = leaseArguments(input, join, leave)
  return {
    name,
    zone: member.zone,
    service: member.service.relative,
    bin,
    packageSpec,
    binary,
    join,
    leave,
    startTimeout: Math.ceil(jitter + joinTimeout + checkTimeout + 30),
    stopTimeout: Math.ceil(leaveTimeout + 5),
    envFile: `/etc/dnssd/${name}.env`,
    renew,
  }
}

/**
 * --binary-url URL --binary-sha256 HEX: the user-data downloads the single
 * executable instead of installing Node.js and the npm package.
 */
function binaryArguments(input: TemplateInput): TemplateSpec['binary'] {
  const url = input['binary-url']
  const sha = input['binary-sha256']
  if (url === undefined && sha === undefined) return undefined
  if (url === undefined) throw new InputError('--binary-sha256', 'needs --binary-url URL (the executable it pins)')
  if (sha === undefined) throw new InputError('--binary-url', 'needs --binary-sha256 HEX (the SHA-256 in SHA256SUMS); the instance runs nothing it cannot check')
  if (input.package !== undefined) throw new InputError('--package', 'is the npm install; --binary-url installs the executable instead: give one of them')
  let parsed: URL | undefined
  try {
    parsed = /^https?:\/\/[!-~]+$/.test(url) ? new URL(url) : undefined
  } catch {
    parsed = undefined
  }
  if (!parsed || parsed.username !== '' || parsed.password !== '') {
    throw new InputError('--binary-url', `"${url}" must be an http(s) URL of printable characters without spaces or user:password, e.g. https://example.com/releases/dnssd-linux-x64`)
  }
  if (!/^[0-9a-fA-F]{64}$/.test(sha.trim())) throw new InputError('--binary-sha256', `"${sha}" is not a SHA-256 (64 hex digits, as in SHA256SUMS)`)
  return {url, sha256: sha.trim().toLowerCase()}
}

/**
 * --registry URL --lease S: join writes/renews the lease, leave deletes it,
 * and a systemd timer re-runs join every third of the lease.
 */
function leaseArguments(input: TemplateInput, join: string[], leave: string[]): TemplateSpec['renew'] {
  if (input.registry === undefined && input.lease === undefined) return undefined
  if (input.registry === undefined) throw new InputError('--lease', 'needs --registry URL (where the lease is kept)')
  if (input.lease === undefined) throw new InputError('--registry', 'needs --lease S in a template (the renew timer re-runs join before the lease ends)')
  const registry = parseRegistryUrl(noControl('--registry', input.registry.trim())).url
  const lease = parseSeconds(input.lease, '--lease')
  if (lease < 30) throw new InputError('--lease', `${lease} is too short for a boot template; give at least 30 seconds (renewed every third)`)
  join.push(`--registry=${registry}`, `--lease=${lease}`)
  leave.push(`--registry=${registry}`)
  return {every: Math.floor(lease / 3)}
}

/** POSIX shell: one single-quoted word. */
export function shQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}

export const shWords = (words: readonly string[]): string => words.map(shQuote).join(' ')

/** systemd command line (systemd.service "Command lines"): quotes, C escapes, $ and % doubled. */
export function systemdQuote(value: string): string {
  const escaped = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('$', '$$$$').replaceAll('%', '%%')
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(value) ? value : `"${escaped}"`
}

export function xmlAttr(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;')
}

/** An SMF exec method runs through /bin/sh after %-token expansion: sh-quote, then double every %. */
function smfExec(spec: TemplateSpec, argv: readonly string[]): string {
  const env = shQuote(spec.envFile)
  const sh = `set -a; [ ! -r ${env} ] || . ${env}; set +a; exec ${shWords([spec.bin, ...argv])}`
  return xmlAttr(sh.replaceAll('%', '%%'))
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/@@([A-Z_]+)@@/g, (whole, key: string) => {
    const v = values[key]
    if (v === undefined) throw new Error(`template slot ${whole} has no value`)
    return v
  })
}

/**
 * A bundle (scripts/bundle.mjs: the single executables, which have no
 * templates/ directory beside them) defines this as {file name: text}.
 */
declare const DNSSD_EMBEDDED_TEMPLATES: Record<string, string> | undefined

async function load(file: string): Promise<string> {
  if (typeof DNSSD_EMBEDDED_TEMPLATES !== 'undefined') {
    const text = DNSSD_EMBEDDED_TEMPLATES[file]
    if (text === undefined) throw new Error(`template ${file} is not in this build`)
    return text
  }
  return readFile(new URL(file, `file://${TEMPLATE_DIR}`), 'utf8')
}

export async function render(kind: TemplateKind, spec: TemplateSpec): Promise<string> {
  const common: Record<string, string> = {
    NAME: spec.name,
    DESCRIPTION: `dnssd: announce ${spec.service} in ${spec.zone}`,
    ENV_FILE: spec.envFile,
    BIN_SH: shQuote(spec.bin),
    PACKAGE_SH: shQuote(spec.packageSpec),
    JOIN_SH: shWords(spec.join),
    LEAVE_SH: shWords(spec.leave),
    EXEC_START: [spec.bin, ...spec.join].map(systemdQuote).join(' '),
    EXEC_STOP: [spec.bin, ...spec.leave].map(systemdQuote).join(' '),
    SMF_START: smfExec(spec, spec.join),
    SMF_STOP: smfExec(spec, spec.leave),
    START_TIMEOUT: String(spec.startTimeout),
    STOP_TIMEOUT: String(spec.stopTimeout),
  }
  if (spec.renew && !RENEWABLE.includes(kind)) {
    throw new InputError('--lease', `the ${kind} template has no renew timer; use ${RENEWABLE.join(', ')}, or renew from cron (README: Leases and reap)`)
  }
  if (!spec.renew && kind.startsWith('systemd-renew')) throw new InputError('--lease', `${kind} renews a lease: give --registry URL and --lease S`)
  const unit = fill(await load('dnssd.service'), common)
  const renew = spec.renew ? await renewUnits(spec.renew.every, common) : undefined
  const manifest = fill(await load('dnssd-smf.xml'), common)
  const envFile = fill(await load('dnssd.env'), common)
  const install = spec.binary
    ? fill(await load('install-binary.sh'), {...common, BINARY_URL_SH: shQuote(spec.binary.url), BINARY_DIGEST_SH: spec.binary.sha256}).trimEnd()
    : fill(await load('install-node.sh'), common).trimEnd()
  // cloud-init runs every runcmd entry even when one fails: one entry, so a
  // failed install enables nothing.
  const enable = [`${spec.name}.service`, ...(spec.renew ? [`${spec.name}-renew.timer`] : [])].join(' ')
  const values = {
    ...common,
    UNIT: unit.trimEnd(),
    MANIFEST: manifest.trimEnd(),
    ENV_DEFAULTS: envFile.trimEnd(),
    INSTALL_SH: install,
    INSTALL_YAML: indent(install, 6),
    UNIT_YAML: indent(unit.trimEnd(), 6),
    ENV_YAML: indent(envFile.trimEnd(), 6),
    RENEW_FILES_YAML: renew ? renew.map(([file, text]) => `  - path: /etc/systemd/system/${file}\n    owner: root:root\n    permissions: '0644'\n    content: |\n${indent(text.trimEnd(), 6)}`).join('\n') : '',
    RUNCMD_YAML: `  - [sh, -c, 'sh /etc/dnssd/install-${spec.name}.sh && systemctl daemon-reload && systemctl enable --now ${enable}']`,
    RENEW_WRITE_SH: renew ? renew.map(([file, text]) => `cat > "$DNSSD_ROOT/etc/systemd/system/${file}" <<'DNSSD_UNIT_EOF'\n${text.trimEnd()}\nDNSSD_UNIT_EOF`).join('\n') : '',
    RENEW_ENABLE_SH: renew ? `systemctl enable --now ${spec.name}-renew.timer` : '',
  }
  switch (kind) {
    case 'systemd':
      return unit
    case 'systemd-renew':
      return renew![0][1]
    case 'systemd-renew-timer':
      return renew![1][1]
    case 'smf':
      return manifest
    case 'sysv':
      return fill(await load('sysv.sh'), values)
    case 'ec2':
      return fill(await load('ec2-cloud-config.yaml'), values)
    case 'ec2-script':
      return fill(await load('ec2-script.sh'), values)
    case 'joyent':
      return fill(await load('joyent.sh'), values)
  }
}

/** Kinds that install the lease-renewal timer (systemd). */
const RENEWABLE: readonly TemplateKind[] = ['ec2', 'ec2-script', 'systemd', 'systemd-renew', 'systemd-renew-timer']

/** The renew service and timer, as [file name, text]. */
async function renewUnits(every: number, common: Record<string, string>): Promise<[[string, string], [string, string]]> {
  const values = {...common, RENEW_EVERY: `${every}s`, RENEW_JITTER: `${Math.max(1, Math.floor(every / 10))}s`}
  return [
    [`${common.NAME}-renew.service`, fill(await load('dnssd-renew.service'), values)],
    [`${common.NAME}-renew.timer`, fill(await load('dnssd-renew.timer'), values)],
  ]
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n)
  return text
    .split('\n')
    .map((l) => (l === '' ? '' : pad + l))
    .join('\n')
}
