/**
 * DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message on the
 * stream is preceded by its length as a two-octet big-endian number. The one
 * copy the client, the server and the tests use.
 */

/** A message with its two-octet length in front. */
export function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + message.length)
  out.writeUInt16BE(message.length, 0)
  message.copy(out, 2)
  return out
}

/**
 * The messages of a TCP stream, whichever way its chunks split or join the
 * frames. Pull-based, so a reader can stop between messages (back-pressure)
 * and look at a frame's length before the frame has arrived.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
  }

  /** The length the next frame announces, once its two octets are here. */
  nextLength(): number | undefined {
    if (this.buf.length >= 2) return this.buf.readUInt16BE(0)
    this.compact()
    return undefined
  }

  /** The next whole message, or undefined while it has not all arrived. */
  next(): Buffer | undefined {
    const len = this.nextLength()
    if (len === undefined) return undefined
    if (this.buf.length < 2 + len) {
      this.compact()
      return undefined
    }
    const message = this.buf.subarray(2, 2 + len)
    this.buf = this.buf.subarray(2 + len)
    return message
  }

  // A partial frame left at the end of a large chunk must not keep the whole chunk alive.
  private compact(): void {
    if (this.buf.length > 0 && this.buf.byteOffset > 0 && this.buf.buffer.byteLength > 4 * this.buf.length) this.buf = Buffer.from(this.buf)
  }
}
