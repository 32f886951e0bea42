/**
 * `dnssd template` input rules: every malformed identity or template value
 * is rejected with exit 2 and one line before anything is rendered.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {cleanEnv, runCli} from '../helpers/cli.js'

describe('template input', () => {
  it('rejects malformed values with exit 2, one line, and prints nothing', async () => {
    const base = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '8080']
    const cases: Array<[string[], RegExp]> = [
      [['--zone', 'ex ample.com', '--service', '_web._tcp', '--port', '80'], /^dnssd: --zone: /],
      [['--zone', 'example.com', '--service', 'web', '--port', '80'], /^dnssd: --service: /],
      [['--zone', 'example.com', '--service', '_web._tcp', '--port', '0'], /^dnssd: --port: /],
      [[...base, '--txt', 'a=b\nc'], /^dnssd: --txt: .* control character/],
      [[...base, '--set', 'api-token=abc'], /^dnssd: --set api-token: secrets do not belong/],
      [[...base, '--set', 'zone-id'], /^dnssd: --set "zone-id": give a provider flag as NAME=VALUE/],
      [[...base, '--bin', 'dnssd'], /^dnssd: --bin: /],
      [[...base, '--name', 'My Service'], /^dnssd: --name: /],
      [[...base, '--check', 'ftp://127.0.0.1/'], /^dnssd: --check: /],
      [[...base, '--ip-source', 'elastic'], /^dnssd: --ip-source: /],
      [[...base, '--host', 'web_1'], /^dnssd: --host: /],
      [[...base, '--upload', 'https://bucket/key'], /^dnssd: --upload: /],
    ]
    for (const [args, message] of cases) {
      const r = await runCli(['template', 'ec2', ...args], {env: cleanEnv()})
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
    const kind = await runCli(['template', 'gce', ...base], {env: cleanEnv()})
    assert.equal(kind.exitCode, 2)
  })
})

describe('template files ship with the package', () => {
  it('a copy of exactly the packed files renders every kind from another directory', async () => {
    const {spawnSync} = await import('node:child_process')
    const {cp, mkdir, symlink} = await import('node:fs/promises')
    const {join} = await import('node:path')
    const {ROOT, tempDir} = await import('../helpers/cli.js')
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: ROOT, encoding: 'utf8'})
    assert.equal(pack.status, 0, pack.stderr)
    const files = (JSON.parse(pack.stdout) as Array<{files: Array<{path: string}>}>)[0]!.files.map((f) => f.path)
    for (const f of ['dnssd.service', 'sysv.sh', 'ec2-cloud-config.yaml', 'ec2-script.sh', 'joyent.sh', 'dnssd-smf.xml', 'install-node.sh', 'dnssd.env']) {
      assert.ok(files.includes(`templates/userdata/${f}`), `templates/userdata/${f} is not packed`)
    }
    const dir = await tempDir()
    try {
      const pkg = join(dir.path, 'pkg')
      for (const f of files) {
        await mkdir(join(pkg, f, '..'), {recursive: true})
        await cp(join(ROOT, f), join(pkg, f))
      }
      await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'))
      for (const kind of ['ec2', 'ec2-script', 'joyent', 'systemd', 'sysv', 'smf']) {
        const r = spawnSync(process.execPath, [join(pkg, 'bin', 'run.js'), 'template', kind, '-z', 'example.com', '-s', '_web._tcp', '-p', '80'], {
          cwd: dir.path,
          encoding: 'utf8',
          env: cleanEnv(),
        })
        assert.equal(r.status, 0, `${kind}: ${r.stderr}`)
        assert.match(r.stdout, /--zone=example\.com/)
      }
    } finally {
      await dir.cleanup()
    }
  })
})
