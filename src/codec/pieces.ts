/**
 * Bytes kept as the pieces they arrived in. A chunk received over the chunk
 * protocol is the list of the muxer's buffers that carried it: hashed piece
 * by piece as it arrives, stored (a replica, a download, a copy) with one
 * gathered write, and joined into one buffer only by a consumer that needs
 * one: the decryption, which then makes one call and one output buffer per
 * chunk (per piece, the decryption and the output's writes cost more than
 * the join). Joining every chunk on arrival cost a copy of each byte
 * received and, above all, garbage collection: V8 collects after every few
 * tens of MB of new buffers (measured in bench/transfer: the requester's
 * CPU fell from about 870 to 740 ms per 256 MiB without the join).
 *
 * The pieces are views of buffers nothing else writes to (each noise message
 * is decrypted into a buffer of its own); a holder must not write to them
 * either.
 */

/** One or more byte ranges, in order. */
export type Pieces = readonly Uint8Array[]

/** Bytes in one buffer or in pieces. */
export type SomeBytes = Uint8Array | Pieces

export function piecesOf (bytes: SomeBytes): Pieces {
  return bytes instanceof Uint8Array ? [bytes] : bytes
}

export function byteLengthOf (bytes: SomeBytes): number {
  if (bytes instanceof Uint8Array) return bytes.byteLength
  let n = 0
  for (const p of bytes) n += p.byteLength
  return n
}

/** The bytes in one buffer: the very buffer when there is one piece, else a copy. */
export function joined (bytes: SomeBytes): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes
  if (bytes.length === 1) return bytes[0] as Uint8Array
  const out = new Uint8Array(byteLengthOf(bytes))
  let at = 0
  for (const p of bytes) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
