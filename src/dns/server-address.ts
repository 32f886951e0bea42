/**
 * `--server HOST[:PORT]`: one parser for every command that names a DNS
 * server (resolve asks it, the rfc2136 provider updates it). Kept apart from
 * the client so a flag check loads nothing else.
 */
import {InputError} from '../core/errors.js'
import {ipVersion, isIPv6Zoned} from '../core/names.js'

export interface Server {
  host: string
  port: number
}

/** `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address. */
export function parseServer(value: string, input = '--server'): Server {
  const text = value.trim()
  let host = text
  let port = 53
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (bracket) {
    host = bracket[1]!
    if (bracket[2] !== undefined) port = Number(bracket[2])
  } else if (isIPv6Zoned(text)) {
    host = text
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text)
    if (!m) throw new InputError(input, `"${value}" is not HOST, HOST:PORT or [IPv6]:PORT`)
    host = m[1]!
    if (m[2] !== undefined) port = Number(m[2])
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InputError(input, `"${value}" has a port outside 1-65535`)
  if (ipVersion(host.split('%')[0]!) === 0 && !/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/i.test(host)) {
    throw new InputError(input, `"${host}" is not an IP address or host name`)
  }
  return {host, port}
}

export function formatServer(s: Server): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`
}

