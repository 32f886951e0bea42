/**
 * `--ip auto` through the built CLI: IMDSv2 stand-in on loopback, an
 * mdata-get stub on PATH, and the default-route interface. Every case pins
 * the sources (AWS_EC2_METADATA_DISABLED / a loopback endpoint), so no test
 * can reach the link-local metadata address.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmod, writeFile} from 'node:fs/promises'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {startFakeImds} from '../fakes/imds.js'
import {requireTool} from '../helpers/tools.js'
import {deadlineBoundMs} from '../helpers/wait.js'

const JOIN = ['join', '--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '8080', '--ip', 'auto', '--dry-run']

async function joinAddress(env: NodeJS.ProcessEnv, extra: string[] = []) {
  const r = await runCli([...JOIN, ...extra, '--json', '--verbose'], {env})
  const parsed = r.exitCode === 0 ? (JSON.parse(r.stdout) as {address: string; host: string}) : undefined
  return {...r, address: parsed?.address, host: parsed?.host}
}

describe('--ip auto from EC2 IMDSv2 (loopback stand-in)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir()
  })
  after(async () => dir.cleanup())

  const envFor = (url: string) =>
    cleanEnv({AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: url, DNSSD_IP_AUTO_ORDER: 'ec2', DNSSD_DATA_DIR: dir.path})

  it('uses public-ipv4 by default, with the token on every GET', async () => {
    const imds = await startFakeImds({'public-ipv4': '203.0.113.7', 'local-ipv4': '10.0.0.7'})
    try {
      const r = await joinAddress(envFor(imds.url))
      assert.equal(r.exitCode, 0, r.stderr)
      assert.equal(r.address, '203.0.113.7')
      assert.equal(r.host, '203-0-113-7.example.com')
      assert.match(r.stderr, /ip: auto -> 203\.0\.113\.7 from EC2 IMDSv2 public-ipv4/)
      assert.equal(imds.rejected, 0)
      assert.deepEqual(imds.requests[0], {method: 'PUT', path: '/latest/api/token', token: false})
      assert.ok(imds.requests.slice(1).every((q) => q.method === 'GET' && q.token), JSON.stringify(imds.requests))
    } finally {
      await imds.close()
    }
  })

  it('the stand-in refuses a GET without the token (IMDSv2 only)', async () => {
    const imds = await startFakeImds({'public-ipv4': '203.0.113.7'})
    try {
      const r = await fetch(`${imds.url}/latest/meta-data/public-ipv4`)
      assert.equal(r.status, 401)
    } finally {
      await imds.close()
    }
  })

  it('--ip-source private uses local-ipv4; no public address falls back to private', async () => {
    const imds = await startFakeImds({'public-ipv4': '203.0.113.7', 'local-ipv4': '10.0.0.7'})
    const inside = await startFakeImds({'local-ipv4': '10.0.0.8'})
    try {
      assert.equal((await joinAddress(envFor(imds.url), ['--ip-source', 'private'])).address, '10.0.0.7')
      const r = await joinAddress(envFor(inside.url))
      assert.equal(r.address, '10.0.0.8')
      assert.match(r.stderr, /from EC2 IMDSv2 local-ipv4/)
    } finally {
      await imds.close()
      await inside.close()
    }
  })

  it('--ip-source public without a public address is bad input (exit 2)', async () => {
    const imds = await startFakeImds({'local-ipv4': '10.0.0.8'})
    try {
      const r = await runCli([...JOIN, '--ip-source', 'public'], {env: envFor(imds.url)})
      assert.equal(r.exitCode, 2)
      assert.match(r.stderr, /--ip-source: public: EC2 IMDSv2 reports no public address/)
    } finally {
      await imds.close()
    }
  })

  it('an IPv6-only instance registers its IPv6 address (AAAA)', async () => {
    const imds = await startFakeImds({mac: '0e:11:22:33:44:55', ipv6s: '2001:db8:1::7'})
    try {
      const r = await runCli([...JOIN], {env: envFor(imds.url)})
      assert.equal(r.exitCode, 0, r.stderr)
      assert.match(r.stdout, /IN AAAA 2001:db8:1::7/)
    } finally {
      await imds.close()
    }
  })

  it('a metadata endpoint that never answers falls through to the interface quickly', async () => {
    const imds = await startFakeImds({}, {hang: true})
    try {
      const env = {...envFor(imds.url), DNSSD_IP_AUTO_ORDER: 'ec2,interface'}
      const bound = await deadlineBoundMs(3)
      const started = Date.now()
      const r = await runCli([...JOIN, '--verbose'], {env})
      const elapsed = Date.now() - started
      assert.match(r.stderr, /IMDS did not answer \(timed out\)/)
      assert.ok(elapsed < bound, `took ${elapsed} ms (bound ${bound} ms)`)
    } finally {
      await imds.close()
    }
  })
})

describe('--ip auto on Joyent/Triton (mdata-get stub on PATH)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir()
    const nics = [
      {interface: 'net0', mac: '90:b8:d0:00:00:01', nic_tag: 'external', primary: true, ip: '198.51.100.20', ips: ['198.51.100.20/24', '2001:db8:5::20/64']},
      {interface: 'net1', mac: '90:b8:d0:00:00:02', nic_tag: 'internal', ip: '10.88.0.20', ips: ['10.88.0.20/24']},
    ]
    await writeFile(`${dir.path}/nics.json`, JSON.stringify(nics))
    await writeFile(
      `${dir.path}/mdata-get`,
      `#!/bin/sh\n[ "$1" = sdc:nics ] || { echo "No metadata for '$1'" >&2; exit 1; }\ncat '${dir.path}/nics.json'\n`,
    )
    await chmod(`${dir.path}/mdata-get`, 0o755)
  })
  after(async () => dir.cleanup())

  const env = () => cleanEnv({PATH: `${dir.path}:${process.env.PATH}`, DNSSD_DATA_DIR: dir.path})

  it('picks the external NIC by default and the internal one with --ip-source private', async () => {
    const pub = await joinAddress(env())
    assert.equal(pub.exitCode, 0, pub.stderr)
    assert.equal(pub.address, '198.51.100.20')
    assert.match(pub.stderr, /from Triton sdc:nics nic_tag external/)
    const priv = await joinAddress(env(), ['--ip-source', 'private'])
    assert.equal(priv.address, '10.88.0.20')
  })

  it('leave --ip auto finds the same host', async () => {
    const r = await runCli(['leave', '--zone', 'example.com', '--service', '_v1._web._tcp', '--ip', 'auto', '--dry-run', '--json'], {env: env()})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as {host: string}).host, '198-51-100-20.example.com')
  })
})

describe('--ip auto from the default-route interface', () => {
  it('matches what `ip route` reports, in well under a second of resolution', async (t) => {
    const skip = requireTool('ip')
    if (skip) return t.skip(skip)
    const dir = await tempDir()
    try {
      let expected: string | undefined
      try {
        const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'default'], {encoding: 'utf8'})) as Array<{dev: string; metric?: number}>
        routes.sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))
        if (routes[0]) {
          const addrs = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', routes[0].dev], {encoding: 'utf8'})) as Array<{addr_info: Array<{local: string}>}>
          expected = addrs[0]?.addr_info[0]?.local
        }
      } catch {
        expected = undefined
      }
      const r = await joinAddress(cleanEnv({DNSSD_IP_AUTO_ORDER: 'interface', DNSSD_DATA_DIR: dir.path}))
      if (expected === undefined) {
        assert.equal(r.exitCode, 2, 'no IPv4 default route: --ip auto must ask for --ip')
        return
      }
      assert.equal(r.exitCode, 0, r.stderr)
      assert.equal(r.address, expected)
      const ms = Number(/ip: auto -> \S+ from interface \S+ \(default route, (public|private)\) \((\d+) ms\)/.exec(r.stderr)?.[2])
      assert.ok(ms < 250, `resolution took ${ms} ms`)
    } finally {
      await dir.cleanup()
    }
  })

  it('the full default order on a host that is no cloud instance still answers fast', async () => {
    const dir = await tempDir()
    try {
      // Metadata disabled as on any non-EC2 host (and so no test reaches 169.254.169.254); no mdata-get on PATH.
      const r = await joinAddress(cleanEnv({DNSSD_DATA_DIR: dir.path, PATH: '/usr/bin:/bin'}))
      const ms = Number(/ip: auto -> .* \((\d+) ms\)\n/.exec(r.stderr)?.[1] ?? 'NaN')
      if (r.exitCode === 0) assert.ok(ms < 250, `resolution took ${ms} ms`)
      else assert.equal(r.exitCode, 2)
    } finally {
      await dir.cleanup()
    }
  })

  it('rejects an unknown source order and an unknown --ip-source (exit 2)', async () => {
    const a = await runCli(JOIN, {env: cleanEnv({DNSSD_IP_AUTO_ORDER: 'gce'})})
    assert.equal(a.exitCode, 2)
    assert.match(a.stderr, /DNSSD_IP_AUTO_ORDER: "gce" is not a source/)
    const b = await runCli([...JOIN, '--ip-source', 'elastic'], {env: cleanEnv()})
    assert.equal(b.exitCode, 2)
    assert.match(b.stderr, /--ip-source: "elastic" is not a source/)
  })
})
