// Reap figures: N members join with a 1 s lease (file DNS provider), all
// expire, one `dnssd reap` removes them. Measured for the file registry and
// the S3 registry (real SDK against s3rver on 127.0.0.1:0). Prints wall time
// of the reap process, the time reap itself reports, and the registry calls
// it made (counted from --verbose `: call ` lines).
// BENCH_REAP_N=10,50 sets the member counts.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import S3rver from 's3rver'
import {BIN, benchEnv, fmt, printTable} from './lib.mjs'

const counts = (process.env.BENCH_REAP_N ?? '10,50').split(',').map(Number)

function run(args, env) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint()
    const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6
      code === 0 ? resolve({ms, out, err}) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))
    })
  })
}

async function pool(items, width, fn) {
  const queue = [...items]
  await Promise.all(Array.from({length: width}, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x)
  }))
}

async function measure(kind, n, env, registry) {
  const members = Array.from({length: n}, (_, i) => ({ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`}))
  const joinMs = []
  await pool(members, 6, async (m) => {
    const r = await run(['join', '-z', 'example.com', '-s', '_v1._web._tcp', '-p', '80', '--ip', m.ip, '--registry', registry, '--lease', '1', '-v'], env)
    joinMs.push(r.ms)
  })
  await new Promise((r) => setTimeout(r, 1200))
  const r = await run(['reap', '-z', 'example.com', '--registry', registry, '--json', '-v'], env)
  const result = JSON.parse(r.out)
  const calls = r.err.split('\n').filter((l) => l.includes(': call '))
  const byOp = {}
  for (const l of calls) {
    const op = l.split(': call ')[1].split(' ')[0]
    byOp[op] = (byOp[op] ?? 0) + 1
  }
  if (result.removed !== n) throw new Error(`${kind}: reaped ${result.removed} of ${n}`)
  joinMs.sort((a, b) => a - b)
  return [kind, n, fmt(joinMs[Math.floor(joinMs.length / 2)]), fmt(r.ms), result.elapsedMs, calls.length, Object.entries(byOp).map(([k, v]) => `${k} ${v}`).join(', ')]
}

const rows = []
for (const n of counts) {
  const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-reap-'))
  try {
    rows.push(await measure('file', n, benchEnv({DNSSD_DATA_DIR: join(dir, 'dns')}), `file://${join(dir, 'leases')}`))
    const s3dir = join(dir, 's3rver')
    const server = new S3rver({port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{name: 'bench-leases'}]})
    const {port} = await server.run()
    try {
      const env = benchEnv({
        DNSSD_DATA_DIR: join(dir, 'dns-s3'),
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      })
      rows.push(await measure('s3 (s3rver)', n, env, 's3://bench-leases/dnssd'))
    } finally {
      await server.close()
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
printTable('reap of N expired members (file DNS provider)', ['registry', 'N', 'join median ms', 'reap wall ms', 'reap internal ms', 'registry calls', 'by operation'], rows)
