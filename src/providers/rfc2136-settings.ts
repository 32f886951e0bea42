/**
 * Settings of the rfc2136 provider, checked before anything talks to a
 * server: the primary (`--server HOST[:PORT]`, the same syntax and variable
 * as `resolve --server`, but exactly one server: updates go to the primary)
 * and the TSIG key (`--tsig-key-file`, a BIND key file). Light on purpose: a
 * flag check loads no DNS code. Errors are InputError (exit 2) and never
 * quote the secret.
 */
import {InputError} from '../core/errors.js'
import {type Server, parseServer} from '../dns/server-address.js'
import {type TsigKey, readKeyFile} from '../dns/tsig.js'

export interface Rfc2136Settings {
  server: Server
  /** Undefined: updates go unsigned (a server allowing them by address). */
  key?: TsigKey
  keyFile?: string
}

type Raw = Record<string, string | boolean | string[] | undefined>

export function parseRfc2136Settings(raw: Raw, env: NodeJS.ProcessEnv = process.env): Rfc2136Settings {
  const given = raw.server
  const list = (Array.isArray(given) ? given : typeof given === 'string' ? given.split(/[\s,]+/) : []).map((s) => s.trim()).filter(Boolean)
  if (list.length === 0) {
    throw new InputError('--server', 'the rfc2136 provider needs the primary server to update: --server HOST[:PORT] (or DNSSD_SERVER)')
  }
  if (list.length > 1) throw new InputError('--server', `the rfc2136 provider updates one primary; got ${list.length} servers (${list.join(', ')})`)
  const server = parseServer(list[0]!)
  const keyFileRaw = raw['tsig-key-file'] ?? env.DNSSD_TSIG_KEY_FILE
  if (keyFileRaw === undefined || keyFileRaw === '' || keyFileRaw === false) return {server}
  if (typeof keyFileRaw !== 'string') throw new InputError('--tsig-key-file', 'expects one file path')
  const keys = readKeyFile(keyFileRaw, '--tsig-key-file')
  if (keys.length > 1) {
    throw new InputError('--tsig-key-file', `${keyFileRaw} holds ${keys.length} keys (${keys.map((k) => k.name).join(', ')}); give a file with the one key dnssd signs with`)
  }
  return {server, key: keys[0], keyFile: keyFileRaw}
}
