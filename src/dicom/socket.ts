/**
 * Socket hygiene for every DICOM connection: Nagle off (a DIMSE exchange is
 * many small PDUs answered one by one; with Nagle and delayed ACKs each one
 * waits ~40 ms, capping ingest near 20 images/s), and a PDU length guard
 * that runs before dcmjs-dimse buffers anything: its accumulator would
 * otherwise grow to whatever length a peer announces (PS3.8 §9.3.1).
 */
import type { Socket } from 'node:net'
import { DicomNetworkError } from './errors.js'

/** Tracks PDU boundaries (type, reserved, 32-bit length: PS3.8 §9.3.1) and destroys the socket on an oversized PDU. */
export function guardSocket (socket: Socket, maxPduBytes: number): void {
  socket.setNoDelay(true)
  let header = Buffer.alloc(0)
  let remaining = 0
  socket.on('data', (chunk: Buffer) => {
    let pos = 0
    while (pos < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - pos)
        remaining -= n
        pos += n
        continue
      }
      const need = 6 - header.length
      const take = chunk.subarray(pos, pos + need)
      header = header.length === 0 ? Buffer.from(take) : Buffer.concat([header, take])
      pos += take.length
      if (header.length < 6) return
      const length = header.readUInt32BE(2)
      header = Buffer.alloc(0)
      if (length + 6 > maxPduBytes) {
        socket.destroy(new DicomNetworkError(`PDU of ${length} bytes exceeds the limit of ${maxPduBytes}`))
        return
      }
      remaining = length
    }
  })
}

/** PDU types of PS3.8 §9.3 (A-ASSOCIATE-RQ/AC/RJ, P-DATA-TF, A-RELEASE-RQ/RP, A-ABORT). */
const PDU_TYPES = new Set([1, 2, 3, 4, 5, 6, 7])

/**
 * Cuts a byte stream into whole PDUs with at most one copy per PDU (none
 * when a PDU lies inside one socket read). dcmjs-dimse's own accumulator
 * concatenates the whole partial PDU again on every socket read, which for
 * 128 KiB PDUs made garbage collection the largest CPU cost of ingest.
 */
export class PduFramer {
  private readonly chunks: Buffer[] = []
  private have = 0
  /** Bytes of the PDU being received (header included), once its header is in. */
  private need = -1

  constructor (
    private readonly maxPduBytes: number,
    private readonly onPdu: (pdu: Buffer) => void,
    private readonly onError: (err: Error) => void
  ) {}

  push (chunk: Buffer): void {
    this.chunks.push(chunk)
    this.have += chunk.length
    for (;;) {
      if (this.need < 0) {
        if (this.have < 6) return
        const head = this.chunks[0] !== undefined && this.chunks[0].length >= 6 ? this.chunks[0] : this.peek(6)
        const type = head.readUInt8(0)
        const length = head.readUInt32BE(2)
        if (!PDU_TYPES.has(type)) { this.fail(new DicomNetworkError(`unknown PDU type ${type}`)); return }
        if (length + 6 > this.maxPduBytes) { this.fail(new DicomNetworkError(`PDU of ${length} bytes exceeds the limit of ${this.maxPduBytes}`)); return }
        this.need = length + 6
      }
      if (this.have < this.need) return
      const pdu = this.take(this.need)
      this.need = -1
      this.onPdu(pdu)
    }
  }

  private fail (err: Error): void {
    this.chunks.length = 0
    this.have = 0
    this.onError(err)
  }

  /** The first `n` buffered bytes, copied (only for a header split across reads). */
  private peek (n: number): Buffer {
    return Buffer.concat(this.chunks, this.have).subarray(0, n)
  }

  private take (n: number): Buffer {
    const first = this.chunks[0]
    if (first === undefined) throw new RangeError('no data')
    this.have -= n
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = Buffer.allocUnsafe(n)
    let off = 0
    while (off < n) {
      const c = this.chunks[0]
      if (c === undefined) throw new RangeError('no data')
      const k = Math.min(c.length, n - off)
      c.copy(out, off, 0, k)
      off += k
      if (k === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(k)
    }
    return out
  }
}
