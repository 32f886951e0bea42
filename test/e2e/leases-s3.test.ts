/**
 * Leases in S3 through the REAL @aws-sdk/client-s3, against s3rver started
 * here on 127.0.0.1:0 (reference route53-s3.md §7.2: path-style, checksums
 * WHEN_REQUIRED, no paging). s3rver ignores conditional headers, so the race
 * tests run through test/fakes/s3-local.ts's conditional proxy, which answers
 * If-Match / If-None-Match as S3 does (§7.1). DNS lives in the file provider.
 */
import assert from 'node:assert/strict'
import {stat} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {type LocalS3, S3RVER_KEY, startLocalS3} from '../fakes/s3-local.js'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {ZONE, invariants, joinArgs, members, renewDuringReap, renewedAfterRead, srvTargets, tenMembersTwoReapers} from '../helpers/leases.js'

const BUCKET = 'dnssd-leases'
const PREFIX = 'fleet/prod'

function awsEnv(endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_KEY,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/dnssd-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/dnssd-test/credentials',
    ...extra,
  })
}

describe('leases in S3 (real SDK, local s3rver)', () => {
  let plain: LocalS3
  let conditional: LocalS3
  let root: {path: string; cleanup: () => Promise<void>}
  const clients: S3Client[] = []

  before(async () => {
    root = await tempDir('dnssd-leases-s3-')
    plain = await startLocalS3({buckets: [BUCKET], conditional: false})
    conditional = await startLocalS3({buckets: [BUCKET], conditional: true})
  })
  after(async () => {
    for (const c of clients) c.destroy()
    await plain?.stop()
    await conditional?.stop()
    await root.cleanup()
  })

  const setup = (name: string, s3: LocalS3) => {
    const prefix = `${PREFIX}/${name}`
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: {accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY},
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    clients.push(client)
    const dataDir = join(root.path, name)
    return {
      dataDir,
      registry: `s3://${BUCKET}/${prefix}`,
      env: awsEnv(s3.endpoint, {DNSSD_DATA_DIR: dataDir}),
      leaseKeys: async () => {
        const out = await client.send(new ListObjectsV2Command({Bucket: BUCKET, Prefix: `${prefix}/`, MaxKeys: 1000}))
        return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length + 1)).sort()
      },
      writeLease: async (key: string, text: string) => {
        await client.send(new PutObjectCommand({Bucket: BUCKET, Key: `${prefix}/${key}`, Body: text}))
      },
    }
  }

  it('join writes <prefix>/<zone>/<service>/<member>.json; leave deletes it; calls are logged', async () => {
    const s = setup('lifecycle', conditional)
    const [m] = members(1)
    const first = await runCli([...joinArgs(m!, s.registry, 60), '--verbose'], {env: s.env})
    assert.equal(first.exitCode, 0, first.stderr)
    assert.match(first.stderr, /s3: call GetObject dnssd-leases\/fleet\/prod\/lifecycle\/example.com\/_v1._web._tcp\/10-0-7-1.example.com.json\n/)
    assert.match(first.stderr, /s3: call PutObject .* if-none-match\n/)
    assert.deepEqual(await s.leaseKeys(), ['example.com/_v1._web._tcp/10-0-7-1.example.com.json'])
    const again = await runCli([...joinArgs(m!, s.registry, 60), '--verbose'], {env: s.env})
    assert.equal(JSON.parse(again.stdout).lease.action, 'renewed')
    assert.match(again.stderr, /s3: call PutObject .* if-match\n/)
    const left = await runCli(['leave', '--zone', ZONE, '--service', m!.service, '--ip', m!.ip, '--registry', s.registry], {env: s.env})
    assert.equal(left.exitCode, 0, left.stderr)
    assert.match(left.stdout, /lease deleted: s3:\/\/dnssd-leases\/fleet\/prod\/lifecycle/)
    assert.deepEqual(await s.leaseKeys(), [])
    assert.deepEqual(await srvTargets(s.dataDir), [])
  })

  it('coalesced: 10 members join at once through conditional S3, one apply lease at a time; 10 leave; sync --once leaves nothing', async () => {
    const s = setup('coalesced', conditional)
    const all = members(10)
    const joins = await Promise.all(all.map((m) => runCli([...joinArgs(m, s.registry, 600), '--timeout', '60'], {env: s.env, timeoutMs: 90_000})))
    joins.forEach((j, i) => assert.equal(j.exitCode, 0, `${all[i]!.host}: ${j.stderr || j.stdout}`))
    assert.deepEqual(await srvTargets(s.dataDir), all.map((m) => m.host).sort())
    assert.deepEqual(await invariants(s.dataDir), [])
    // The apply lease is taken with If-None-Match (or If-Match over an expired one): S3 answers 412 to all but one.
    const applyPuts = conditional.requests.filter((r) => r.startsWith('PUT ') && r.includes('/.apply.json'))
    assert.ok(applyPuts.length >= 1, 'the apply lease went through S3')
    const leaves = await Promise.all(all.map((m) => runCli(['leave', '--zone', ZONE, '--service', m.service, '--ip', m.ip, '--registry', s.registry, '--timeout', '20', '--json'], {env: s.env})))
    leaves.forEach((l, i) => assert.equal(l.exitCode, 0, `${all[i]!.host}: ${l.stderr || l.stdout}`))
    const sync = await runCli(['sync', '--zone', ZONE, '--registry', s.registry, '--once'], {env: s.env})
    assert.equal(sync.exitCode, 0, sync.stderr)
    assert.deepEqual(await srvTargets(s.dataDir), [])
    assert.deepEqual(await s.leaseKeys(), [])
    assert.deepEqual(await invariants(s.dataDir), [])
  })

  it('10 members, 3 s leases, 4 renewing: two reapers at once remove exactly the 6 (plain s3rver)', async (t) => {
    const s = setup('ten', plain)
    await tenMembersTwoReapers({...s, log: (l) => t.diagnostic(l)})
  })

  it('a member renewing during the reap stays registered (conditional S3)', async (t) => {
    const s = setup('race', conditional)
    const r = await renewDuringReap({...s, log: (l) => t.diagnostic(l)})
    t.diagnostic(`race outcome: reaper ${r.reaper}, member lease ${JSON.stringify(r.member)}`)
  })

  it('a lease renewed after the reaper read it: DeleteObject If-Match gets 412 and the reaper puts the member back', async (t) => {
    const s = setup('restore', conditional)
    const before = conditional.requests.length
    await renewedAfterRead({...s, log: (l) => t.diagnostic(l)})
    assert.ok(conditional.requests.slice(before).some((r) => r.startsWith('DELETE ')), 'the reaper sent its conditional delete')
  })

  it('missing bucket, refused credentials, unreachable endpoint: exit 4 with one clear line, nothing changed', async () => {
    const s = setup('errors', plain)
    const [m] = members(1)
    const secret = 'not-the-secret-7f3a'
    // list reads the zone first: give it one (in its own data directory).
    const listEnv = {...s.env, DNSSD_DATA_DIR: join(root.path, 'errors-list')}
    const seeded = await runCli(['join', '--zone', ZONE, '--service', '_v1._web._tcp', '--port', '1', '--ip', '10.0.9.9'], {env: listEnv})
    assert.equal(seeded.exitCode, 0, seeded.stderr)
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [joinArgs(m!, 's3://no-such-bucket/x', 30), s.env, /^dnssd: registry s3:\/\/no-such-bucket\/x: the bucket "no-such-bucket" does not exist; create it or fix --registry$/],
      [['reap', '--zone', ZONE, '--registry', 's3://no-such-bucket/x'], s.env, /the bucket "no-such-bucket" does not exist/],
      [['list', '--zone', ZONE, '--registry', 's3://no-such-bucket'], listEnv, /the bucket "no-such-bucket" does not exist/],
      [joinArgs(m!, s.registry, 30), {...s.env, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONG', AWS_SECRET_ACCESS_KEY: secret}, /GetObject was refused \(InvalidAccessKeyId\); check the AWS credentials and grant s3:GetObject/],
      [['reap', '--zone', ZONE, '--registry', s.registry], {...s.env, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONG', AWS_SECRET_ACCESS_KEY: secret}, /ListObjectsV2 was refused \(InvalidAccessKeyId\)/],
      [['leave', '--zone', ZONE, '--service', m!.service, '--ip', m!.ip, '--registry', s.registry], {...s.env, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONG', AWS_SECRET_ACCESS_KEY: secret}, /was refused \(InvalidAccessKeyId\)/],
      [joinArgs(m!, s.registry, 30), {...s.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9'}, /cannot reach S3 \(ECONNREFUSED\); check the network or AWS_ENDPOINT_URL_S3/],
    ]
    for (const [withJson, env, message] of cases) {
      const args = withJson.filter((a) => a !== '--json')
      const r = await runCli(args, {env})
      assert.equal(r.exitCode, 4, `${args.join(' ')}\n${r.stderr}`)
      assert.match(r.stderr.trim(), message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'no secret in output')
    }
    // --json reports the same exit code and message.
    const json = await runCli(joinArgs(m!, 's3://no-such-bucket/x', 30), {env: s.env})
    assert.equal(json.exitCode, 4)
    assert.equal(JSON.parse(json.stdout).error.kind, 'backend-refused')
    await assert.rejects(stat(join(s.dataDir, `${ZONE}.zone`)), 'no DNS change was made')
    assert.deepEqual(await s.leaseKeys(), [])
  })
})
