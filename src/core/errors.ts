/**
 * One error type carries the process exit code, so text mode and `--json`
 * mode report the same code (DESIGN §4).
 */
export const ExitCode = {
  ok: 0,
  badInput: 2,
  noInstance: 3,
  backendRefused: 4,
  deadline: 5,
} as const

export type ErrorKind = 'bad-input' | 'no-instance' | 'backend-refused' | 'deadline' | 'internal'

const exitByKind: Record<ErrorKind, number> = {
  'bad-input': ExitCode.badInput,
  'no-instance': ExitCode.noInstance,
  'backend-refused': ExitCode.backendRefused,
  deadline: ExitCode.deadline,
  internal: 1,
}

export class DnssdError extends Error {
  readonly kind: ErrorKind
  readonly exitCode: number
  /** Read by oclif's own error handler should an error escape our catch. */
  readonly oclif: {exit: number}

  constructor(kind: ErrorKind, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'DnssdError'
    this.kind = kind
    this.exitCode = exitByKind[kind]
    this.oclif = {exit: this.exitCode}
  }
}

/** Bad input: names the input and the rule it broke. Nothing has been changed. */
export class InputError extends DnssdError {
  readonly input: string

  constructor(input: string, rule: string) {
    super('bad-input', `${input}: ${rule}`)
    this.name = 'InputError'
    this.input = input
  }
}

export class BackendError extends DnssdError {
  constructor(message: string, options?: {cause?: unknown}) {
    super('backend-refused', message, options)
    this.name = 'BackendError'
  }
}

export class DeadlineError extends DnssdError {
  constructor(message: string, options?: {cause?: unknown}) {
    super('deadline', message, options)
    this.name = 'DeadlineError'
  }
}

export class NoInstanceError extends DnssdError {
  constructor(message: string) {
    super('no-instance', message)
    this.name = 'NoInstanceError'
  }
}

export interface ErrorReport {
  kind: ErrorKind | string
  message: string
  exitCode: number
}

const ESCAPES: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

/**
 * An error message is one line: control characters a user typed (or a server
 * sent) are shown escaped, so they can neither break the line nor drive the
 * terminal.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Secrets the process holds; registered by the code that reads them. */
const secrets = new Set<string>()
/** Environment variables whose values are secrets wherever they are read. */
const SECRET_ENV = ['CLOUDFLARE_API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']
/** Shorter values are not treated as secrets: replacing them would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8

export function registerSecret(value: string | undefined): void {
  for (const v of [value, value?.trim()]) if (v !== undefined && v.length >= MIN_SECRET_LENGTH) secrets.add(v)
}

/**
 * The last line of defence: any known secret in a message (an SDK or HTTP
 * layer may quote a header or a credential) is replaced before it is shown.
 */
export function redactSecrets(text: string): string {
  for (const name of SECRET_ENV) registerSecret(process.env[name])
  let out = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('[redacted]')
  return out
}

/** What anything thrown reports: our errors keep their kind and code, the rest is internal (exit 1). */
export function errorReport(err: unknown): ErrorReport {
  const message = err instanceof Error ? err.message : String(err)
  const kind = err instanceof DnssdError ? err.kind : 'internal'
  return {kind, message: oneLine(redactSecrets(message)), exitCode: err instanceof DnssdError ? err.exitCode : 1}
}
