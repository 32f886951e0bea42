/**
 * Real self-hosted primaries for the rfc2136 provider: BIND named and Knot
 * knotd on a loopback ephemeral port, each with a TSIG key allowed to update
 * the names and types dnssd writes and to transfer the zone. The configs are
 * the ones the README's "Self-hosted DNS" section shows, with the grant
 * `dnssd policy rfc2136` prints.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {bindZonePolicy, knotAcl, knotAclIds} from '../../src/providers/rfc2136-policy.js'
import {type Running, dig, freePort, namedOptions, stopper, waitForLine} from './dns.js'

export const KEY_NAME = 'dnssd-key'

export interface Key {
  name: string
  secret: string
  file: string
}

/** A fresh key written the way tsig-keygen writes it. */
export async function makeKey(dir: string, name = KEY_NAME, fileName = `${name}.key`): Promise<Key> {
  const r = spawnSync('tsig-keygen', ['-a', 'hmac-sha256', name], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`tsig-keygen failed: ${r.stderr}`)
  const secret = /secret "([^"]+)"/.exec(r.stdout)![1]!
  const file = join(dir, fileName)
  await writeFile(file, r.stdout, {mode: 0o600})
  return {name, secret, file}
}

/** A key file with the same name and algorithm but another secret. */
export async function wrongKey(dir: string, key: Key): Promise<Key> {
  return makeKey(dir, key.name, `${key.name}-wrong.key`)
}

export function zoneText(zone: string): string {
  return `$TTL 300
@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 60
@ IN NS ns1.${zone}.
ns1 IN A 127.0.0.1
www IN A 192.0.2.80
`
}

async function waitForText(child: ChildProcess, pattern: RegExp, what: string): Promise<() => string> {
  return (await waitForLine(child, pattern, what, 20_000)).output
}


/** BIND as a primary taking TSIG-signed updates for `zone` (its data: zoneText plus `records`). */
export async function startBindPrimary(dir: string, zone: string, key: Key, records = ''): Promise<Running> {
  const port = await freePort()
  await writeFile(join(dir, `${zone}.db`), zoneText(zone) + records)
  const conf = join(dir, 'named.conf')
  await writeFile(
    conf,
    `include "${key.file}";
${namedOptions(dir, port)}
zone "${zone}" {
  type primary;
  file "${join(dir, `${zone}.db`)}";
${bindZonePolicy({zone, keyName: key.name, algorithm: 'hmac-sha256'})}
};
`,
  )
  const child = spawn('named', ['-g', '-c', conf, '-n', '1'], {stdio: ['ignore', 'pipe', 'pipe']})
  const output = await waitForText(child, /running\s*$/m, 'named')
  return {port, child, output, stop: stopper(child)}
}

/** Knot as a primary: the same grant as an ACL with update-type. */
export async function startKnotPrimary(dir: string, zone: string, key: Key, records = ''): Promise<Running> {
  const policy = {zone, keyName: key.name, algorithm: 'hmac-sha256'}
  const port = await freePort()
  const storage = join(dir, 'knot')
  await mkdir(storage, {recursive: true})
  await writeFile(join(storage, `${zone}.zone`), zoneText(zone) + records)
  const conf = join(dir, 'knot.conf')
  await writeFile(
    conf,
    `server:
    rundir: "${storage}"
    listen: 127.0.0.1@${port}
    background-workers: 1
    tcp-workers: 2
    udp-workers: 1

log:
  - target: stderr
    any: info

database:
    storage: "${storage}"

key:
  - id: ${key.name}
    algorithm: hmac-sha256
    secret: ${key.secret}

${knotAcl(policy)}

zone:
  - domain: ${zone}
    storage: "${storage}"
    file: "${zone}.zone"
    zonefile-sync: -1
    journal-content: changes
    acl: [${knotAclIds(policy).join(', ')}]
`,
  )
  const child = spawn('knotd', ['-c', conf], {stdio: ['ignore', 'pipe', 'pipe']})
  const output = await waitForText(child, /server started|loaded, serial/, 'knotd')
  // knotd says "started" before the zone is loaded; wait for the zone too.
  await waitForZone(output, zone)
  return {port, child, output, stop: stopper(child)}
}

async function waitForZone(output: () => string, zone: string): Promise<void> {
  const until = Date.now() + 20_000
  while (!new RegExp(`\\[${zone.replace(/\./g, '\\.')}\\.\\] (loaded|zone file parsed)`).test(output())) {
    if (Date.now() > until) throw new Error(`knotd did not load ${zone}: ${output()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** BIND as a secondary of `primaryPort` on loopback; with `key`, it signs its SOA checks and transfers. */
export async function startBindSecondary(dir: string, zone: string, primaryPort: number, key?: Key, port?: number): Promise<Running> {
  await mkdir(dir, {recursive: true})
  port ??= await freePort()
  const conf = join(dir, 'named.conf')
  await writeFile(
    conf,
    `${key ? `include "${key.file}";` : ''}
${namedOptions(dir, port)}
zone "${zone}" {
  type secondary;
  file "${join(dir, `${zone}.secondary`)}";
  primaries { 127.0.0.1 port ${primaryPort}${key ? ` key ${key.name}` : ''}; };
  allow-notify { 127.0.0.1; };
};
`,
  )
  const child = spawn('named', ['-g', '-c', conf, '-n', '1'], {stdio: ['ignore', 'pipe', 'pipe']})
  const output = await waitForText(child, /running\s*$/m, 'named (secondary)')
  return {port, child, output, stop: stopper(child)}
}

/** NSD as a secondary of `primaryPort`, taking NOTIFY from loopback and transferring with `key`. */
export async function startNsdSecondary(dir: string, zone: string, primaryPort: number, key: Key, port?: number): Promise<Running> {
  await mkdir(dir, {recursive: true})
  port ??= await freePort()
  const conf = join(dir, 'nsd.conf')
  await writeFile(
    conf,
    `server:
    ip-address: 127.0.0.1@${port}
    port: ${port}
    do-ip6: no
    zonesdir: "${dir}"
    database: ""
    pidfile: "${join(dir, 'nsd.pid')}"
    xfrdfile: "${join(dir, 'xfrd.state')}"
    zonelistfile: "${join(dir, 'zone.list')}"
    xfrdir: "${dir}"
    username: ""
    chroot: ""
    server-count: 1
    verbosity: 2
    rrl-ratelimit: 0
    # NSD waits this long (default 1 s) after a transfer before serving it; the tests ask for 2 s end to end.
    xfrd-reload-timeout: 0
    logfile: "${join(dir, 'nsd.log')}"

remote-control:
    control-enable: no

key:
    name: "${key.name}"
    algorithm: hmac-sha256
    secret: "${key.secret}"

zone:
    name: "${zone}"
    zonefile: "${zone}.secondary"
    allow-notify: 127.0.0.1 NOKEY
    request-xfr: AXFR 127.0.0.1@${primaryPort} ${key.name}
`,
  )
  const child = spawn('nsd', ['-d', '-c', conf], {stdio: ['ignore', 'pipe', 'pipe']})
  let exited = false
  child.once('exit', () => (exited = true))
  const p = port
  // NSD says nothing on stdout: it has started once it answers (SERVFAIL until the first transfer).
  await waitUntil(() => {
    if (exited) throw new Error(`nsd exited at start: ${readLog(join(dir, 'nsd.log'))}`)
    return /status: \w+/.test(dig(p, ['+tcp', zone, 'SOA']))
  }, 20_000, 'nsd to answer')
  return {port, child, output: () => readLog(join(dir, 'nsd.log')), stop: stopper(child)}
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** Poll `condition` every 20 ms until it holds; fail after `timeoutMs` naming `what`. Returns the ms it took. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await condition()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
