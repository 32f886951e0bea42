/**
 * The start-up flag parser (src/cli/fast-parse.ts) against oclif's own: for
 * a table of argv/environment cases on join, leave, list and resolve, the
 * manifest-driven parse gives the same flags and args as oclif's Parser.parse
 * of the command class followed by DnssdCommand's input rules, reports the
 * same input-rule error, or says "not mine" where oclif reports an error of
 * its own. Needs oclif.manifest.json (npm run build).
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {Flags, Parser} from '@oclif/core'
import {type ManifestCommand, fastParse} from '../../src/cli/fast-parse.js'
import {checkBooleanEnv, rejectEmptyValues, splitListEnv} from '../../src/cli/input-rules.js'
import JoinCommand from '../../src/commands/join.js'
import LeaveCommand from '../../src/commands/leave.js'
import ListCommand from '../../src/commands/list.js'
import ResolveCommand from '../../src/commands/resolve.js'
import {ROOT} from '../helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
interface CommandClass {
  flags?: Record<string, unknown>
  args?: Record<string, unknown>
  strict?: boolean
  enableJsonFlag?: boolean
}
const CLASSES: Record<string, CommandClass> = {join: JoinCommand, leave: LeaveCommand, list: ListCommand, resolve: ResolveCommand}

type Outcome = {kind: 'parsed'; flags: unknown; args: unknown} | {kind: 'input-error'; message: string} | {kind: 'oclif-error'; message: string}

/** oclif's parse of the class, then DnssdCommand.parse's rules, as the oclif path runs them. */
async function oclifOutcome(id: string, argv: string[]): Promise<Outcome> {
  const cmd = CLASSES[id]!
  // enableJsonFlag adds --json the way aggregateFlags does.
  const flags = {...cmd.flags, ...(cmd.enableJsonFlag ? {json: Flags.boolean({description: 'Format output as json.', helpGroup: 'GLOBAL'})} : {})}
  let output: Awaited<ReturnType<typeof Parser.parse>>
  try {
    output = await Parser.parse(argv, {flags: flags as never, args: (cmd.args ?? {}) as never, strict: cmd.strict ?? true})
  } catch (error) {
    return {kind: 'oclif-error', message: (error as Error).message}
  }
  const defs = flags as Record<string, {type: string; env?: string; multiple?: boolean}>
  try {
    rejectEmptyValues(output.raw.flatMap((t) => (t.type === 'flag' && defs[t.flag]?.type === 'option' ? [{flag: t.flag, input: t.input}] : [])))
    checkBooleanEnv(defs)
    splitListEnv(output.flags as Record<string, unknown>, defs)
  } catch (error) {
    return {kind: 'input-error', message: (error as Error).message}
  }
  return {kind: 'parsed', flags: output.flags, args: output.args}
}

function fastOutcome(id: string, argv: string[]): Outcome | undefined {
  try {
    // stdin as a terminal: oclif reads a missing arg from stdin, which is empty here.
    const parsed = fastParse(manifest.commands[id]!, argv, process.env, () => true)
    return parsed === undefined ? undefined : {kind: 'parsed', ...parsed}
  } catch (error) {
    return {kind: 'input-error', message: (error as Error).message}
  }
}

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

interface Case {
  id: string
  argv: string[]
  env?: Record<string, string>
  /** The fast parser hands this one to oclif although oclif parses it. */
  fallback?: true
}

const JOIN = ['-z', 'example.com', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1']

const CASES: Case[] = [
  {id: 'join', argv: JOIN},
  {id: 'join', argv: [...JOIN, '--json']},
  {id: 'join', argv: ['--zone=example.com', '--service=_v1._web._tcp', '--port=8080', '--ip=10.0.0.1']},
  {id: 'join', argv: ['-zexample.com', '-s=_v1._web._tcp', '-p8080', '--ip', '10.0.0.1']},
  {id: 'join', argv: [...JOIN, '--txt', 'a=1', '--txt', 'b=2']},
  // A multiple flag takes the words after it until the next flag.
  {id: 'join', argv: [...JOIN, '--txt', 'a=1', 'b=2', 'c']},
  {id: 'join', argv: ['--txt', 'a=1', 'b', '-v', 'c', ...JOIN]},
  {id: 'join', argv: [...JOIN, '--txt', 'x', '--zone', 'other.example', 'stray']},
  {id: 'join', argv: [...JOIN, '-vn']},
  {id: 'join', argv: [...JOIN, '-v', '-n', '--wait', '--proxied']},
  {id: 'join', argv: [...JOIN, '--private']},
  {id: 'join', argv: [...JOIN, '--private', '--public']},
  {id: 'join', argv: [...JOIN, '--provider', 'route53', '--zone-id', 'Z1']},
  {id: 'join', argv: [...JOIN, '--provider', 'nope']},
  {id: 'join', argv: [...JOIN, '--provider=cloudflare', '--ttl', 'auto']},
  {id: 'join', argv: [...JOIN, '--weight', '-1']},
  {id: 'join', argv: [...JOIN, '--host', '']},
  {id: 'join', argv: [...JOIN, '--jitter=']},
  {id: 'join', argv: [...JOIN, '--txt', 'a', '--txt', ' ']},
  {id: 'join', argv: [...JOIN, '--zone', 'again.example']},
  {id: 'join', argv: [...JOIN, '--host']},
  {id: 'join', argv: [...JOIN, '--host', '--json']},
  {id: 'join', argv: [...JOIN, '--bogus']},
  {id: 'join', argv: [...JOIN, '-x']},
  {id: 'join', argv: [...JOIN, 'positional']},
  {id: 'join', argv: [...JOIN, '-5']},
  {id: 'join', argv: [...JOIN, '--verbose=true'], fallback: true},
  {id: 'join', argv: [...JOIN, '--host', '-'], fallback: true},
  {id: 'join', argv: [], env: {DNSSD_ZONE: 'example.com', DNSSD_SERVICE: '_v1._web._tcp', DNSSD_PORT: '80', DNSSD_IP: '10.0.0.2'}},
  {id: 'join', argv: ['--zone', 'flag.example'], env: {DNSSD_ZONE: 'env.example'}},
  {id: 'join', argv: JOIN, env: {DNSSD_TXT: 'from=env'}},
  {id: 'join', argv: [...JOIN, '--txt', 'a'], env: {DNSSD_TXT: 'from=env'}},
  {id: 'join', argv: JOIN, env: {DNSSD_WAIT: 'yes', DNSSD_PROXIED: '0'}},
  {id: 'join', argv: JOIN, env: {DNSSD_WAIT: 'True'}},
  {id: 'join', argv: JOIN, env: {DNSSD_WAIT: 'maybe'}},
  {id: 'join', argv: [...JOIN, '--host', ''], env: {DNSSD_WAIT: 'maybe'}},
  {id: 'join', argv: JOIN, env: {DNSSD_PROVIDER: 'nope'}},
  {id: 'join', argv: JOIN, env: {DNSSD_PROVIDER: 'file', DNSSD_HOST: '', DNSSD_TIMEOUT: '9'}},
  {id: 'join', argv: [...JOIN, '--wait'], env: {DNSSD_WAIT: 'false'}},
  {id: 'leave', argv: JOIN},
  {id: 'leave', argv: [...JOIN, '--dry-run', '--json', '--timeout', '3']},
  {id: 'leave', argv: [...JOIN, '--lease', '60']},
  {id: 'leave', argv: ['-z', 'example.com', '-s', '_web._tcp', '--host', 'web1', '--registry', 'file:///tmp/r']},
  {id: 'list', argv: ['-z', 'example.com']},
  {id: 'list', argv: ['-z', 'example.com', '--service', '_web._tcp', '--json', '-v']},
  {id: 'list', argv: ['-z', 'example.com', '--txt', 'a']},
  {id: 'list', argv: ['-z', 'example.com', '--public', '--provider', 'route53']},
  {id: 'list', argv: [], env: {DNSSD_ZONE: 'example.com', DNSSD_REGISTRY: 'file:///tmp/r'}},
  {id: 'list', argv: ['-z', 'example.com', '--registry=']},
  {id: 'resolve', argv: ['_web._tcp.example.com']},
  {id: 'resolve', argv: ['_web._tcp.example.com', '--server', '127.0.0.1:5353', '--all', '--format', 'url']},
  {id: 'resolve', argv: ['-a', '--format=json', '_v1._web._tcp.example.com', '--check', 'tcp']},
  {id: 'resolve', argv: ['_web._tcp.example.com', '--format', 'xml']},
  {id: 'resolve', argv: ['_web._tcp.example.com', '--server', 'a', '--server', 'b:53']},
  // oclif gives the name to the multiple --server before it.
  {id: 'resolve', argv: ['--server', '127.0.0.1', '_web._tcp.example.com']},
  {id: 'resolve', argv: ['one.example', 'two.example']},
  {id: 'resolve', argv: ['-z', 'example.com', '-s', '_web._tcp', '--version', 'v1']},
  {id: 'resolve', argv: ['_web._tcp.example.com', '--doh', '']},
  {id: 'resolve', argv: ['_web._tcp.example.com', '--json', '-v']},
  {id: 'resolve', argv: ['_web._tcp.example.com'], env: {DNSSD_SERVER: '127.0.0.1:53', DNSSD_TIMEOUT: '2'}},
  {id: 'resolve', argv: ['_web._tcp.example.com', '--help']},
  {id: 'resolve', argv: ['--', '_web._tcp.example.com'], fallback: true},
]

/** One case per flag of each command, in every form it can be given, so a new flag is compared too. */
function everyFlag(): Case[] {
  const out: Case[] = []
  for (const id of Object.keys(CLASSES)) {
    for (const [name, flag] of Object.entries(manifest.commands[id]!.flags)) {
      if (flag.type === 'boolean') {
        out.push({id, argv: [`--${name}`]})
        if (flag.char) out.push({id, argv: [`-${flag.char}`]})
        if (flag.env) out.push({id, argv: [], env: {[flag.env]: '1'}})
        continue
      }
      const value = flag.options?.[0] ?? 'v1'
      out.push({id, argv: [`--${name}`, value]}, {id, argv: [`--${name}=${value}`]})
      if (flag.char) out.push({id, argv: [`-${flag.char}`, value]}, {id, argv: [`-${flag.char}${value}`]})
      if (flag.multiple) out.push({id, argv: [`--${name}`, value, `--${name}`, 'v2']})
      if (flag.env) out.push({id, argv: [], env: {[flag.env]: value}})
    }
  }
  return out
}

describe('fast-parse: the manifest parser agrees with oclif', () => {
  for (const c of [...CASES, ...everyFlag()]) {
    const label = `${c.id} ${JSON.stringify(c.argv)}${c.env ? ` env ${JSON.stringify(c.env)}` : ''}`
    it(label, async () => {
      const [expected, actual] = await withEnv(c.env ?? {}, async () => [await oclifOutcome(c.id, c.argv), fastOutcome(c.id, c.argv)] as const)
      if (expected.kind === 'oclif-error' || c.fallback) {
        assert.equal(actual, undefined, `oclif: ${expected.kind} ${'message' in expected ? expected.message : ''}; the fast parser must leave it to oclif`)
        return
      }
      assert.deepEqual(actual, expected)
    })
  }

  it('leaves a command with a manifest feature it does not implement to oclif', () => {
    const join = manifest.commands.join!
    const withAlias = {...join, flags: {...join.flags, zone: {...join.flags.zone!, aliases: ['domain']}}}
    assert.equal(fastParse(withAlias, JOIN, {}, () => true), undefined)
    assert.notEqual(fastParse(join, JOIN, {}, () => true), undefined)
  })

  it('leaves a missing arg to oclif when stdin is not a terminal (oclif reads it from stdin)', () => {
    const resolve = manifest.commands.resolve!
    assert.equal(fastParse(resolve, ['-z', 'example.com', '-s', '_web._tcp'], {}, () => false), undefined)
    assert.deepEqual(fastParse(resolve, ['_web._tcp.example.com'], {}, () => false)?.args, {name: '_web._tcp.example.com'})
  })
})
