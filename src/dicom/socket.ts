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
