import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import dgram from 'node:dgram'
import {describe, it} from 'node:test'
import {InputError} from '../../src/core/errors.js'
import {ResponseVerifier, type TsigKey, findTsig, parseKeyFile, signMessage, verifyRequest} from '../../src/dns/tsig.js'
import {requireTool} from '../helpers/tools.js'

const SECRET = 'k3BZYhYqHcQHyuQl2fYX0mKfC1nWaE2bEBN/0Q3Rt5E='
const KEY_TEXT = `# written by tsig-keygen\nkey "dnssd-test" {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`

function key(algorithm = 'hmac-sha256'): TsigKey {
  return {name: 'dnssd-test', algorithm, secret: Buffer.from(SECRET, 'base64')}
}

/** A query for example.com SOA with id 0x1234, built by hand. */
function query(id = 0x1234): Buffer {
  const q = Buffer.from([0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 0, 6, 0, 1])
  q.writeUInt16BE(id, 0)
  return q
}

describe('TSIG key files', () => {
  it('reads what tsig-keygen writes, with comments', () => {
    const [k] = parseKeyFile(`/* c */ ${KEY_TEXT} // end`, '--tsig-key-file f')
    assert.equal(k!.name, 'dnssd-test')
    assert.equal(k!.algorithm, 'hmac-sha256')
    assert.equal(k!.secret.toString('base64'), SECRET)
  })

  it('keeps "//" inside a quoted secret (base64 holds "/") while dropping comments', () => {
    const secret = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), Buffer.from('a dnssd test secret')]).toString('base64')
    assert.ok(secret.startsWith('////'))
    const [k] = parseKeyFile(`key "k" { // the key\n algorithm hmac-sha256; # algo\n secret "${secret}"; /* end */ };`, 'f')
    assert.equal(k!.secret.toString('base64'), secret)
  })

  it('rejects bad files naming the rule, never the secret', () => {
    const cases = [
      'nothing here',
      KEY_TEXT.replace('hmac-sha256', 'hmac-md5'),
      KEY_TEXT.replace(SECRET, `${SECRET.slice(0, 10)}!!${SECRET.slice(12)}`),
      KEY_TEXT.replace(/\talgorithm[^\n]*\n/, ''),
      KEY_TEXT.replace(/\tsecret[^\n]*\n/, ''),
    ]
    for (const text of cases) {
      assert.throws(
        () => parseKeyFile(text, '--tsig-key-file f'),
        (error: unknown) => error instanceof InputError && error.message.startsWith('--tsig-key-file f') && !error.message.includes(SECRET.slice(0, 10)),
        text,
      )
    }
  })
})

describe('TSIG sign and verify (RFC 8945)', () => {
  it('a signed request verifies; one flipped bit does not', () => {
    for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha512']) {
      const {signed} = signMessage(query(), key(alg))
      assert.equal(signed.readUInt16BE(10), 1)
      const good = verifyRequest(signed, [key(alg)])
      assert.ok(good.found && good.result.ok, alg)
      const bad = Buffer.from(signed)
      bad[14] ^= 1
      const r = verifyRequest(bad, [key(alg)])
      assert.ok(r.found && !r.result.ok && r.result.failure === 'BADSIG', alg)
      const other = verifyRequest(signed, [{...key(alg), name: 'other'}])
      assert.ok(other.found && !other.result.ok && other.result.failure === 'BADKEY', alg)
    }
  })

  it('a stream of responses chains each MAC to the previous one', () => {
    const k = key()
    const {mac: requestMac} = signMessage(query(), k)
    const first = signMessage(response(), k, {requestMac})
    const second = signMessage(response(), k, {priorMac: first.mac})
    const verifier = new ResponseVerifier(k, requestMac)
    assert.ok(verifier.verify(first.signed).ok)
    assert.ok(verifier.verify(second.signed).ok)
    // The same second message verified out of order fails.
    const fresh = new ResponseVerifier(k, requestMac)
    assert.equal(fresh.verify(second.signed).ok, false)
    const stale = new ResponseVerifier(k, requestMac)
    assert.equal(stale.verify(first.signed, Math.floor(Date.now() / 1000) + 3600).ok, false)
  })

  it('verifies what dig -y signs, and dig accepts what we sign back', async (t) => {
    const skip = requireTool('dig')
    if (skip) return t.skip(skip)
    const k = key()
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const port = (socket.address() as {port: number}).port
    const received = new Promise<Buffer>((resolve) => {
      socket.on('message', (msg, rinfo) => {
        const check = verifyRequest(msg, [k])
        assert.ok(check.found && check.result.ok, 'the request dig signed verifies')
        // Echo the question (and dig's OPT) with QR and AA set.
        const body = Buffer.from(findTsig(msg)!.unsigned)
        body.writeUInt16BE(0x8400, 2)
        const {signed} = signMessage(body, k, {requestMac: check.result.ok ? check.result.mac : undefined})
        socket.send(signed, rinfo.port, rinfo.address)
        resolve(msg)
      })
    })
    const dig = spawn('dig', ['-p', String(port), '@127.0.0.1', '+tries=1', '+time=5', '-y', `hmac-sha256:dnssd-test:${SECRET}`, 'example.com', 'SOA'])
    let out = ''
    dig.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const code = await new Promise<number | null>((resolve) => dig.on('close', resolve))
    await received
    socket.close()
    assert.equal(code, 0, out)
    assert.doesNotMatch(out, /TSIG.*(fail|could not|bad)/i, out)
    assert.match(out, /status: NOERROR/)
  })
})

function response(): Buffer {
  const r = query()
  r.writeUInt16BE(0x8400, 2)
  return r
}
