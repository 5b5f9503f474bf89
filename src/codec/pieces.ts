/**
 * Bytes kept as the pieces they arrived in. A chunk received over the chunk
 * protocol is the list of the muxer's buffers that carried it: hashed piece
 * by piece as it arrives, then decrypted piece by piece and written with one
 * gathered write, and joined into one buffer only by a consumer that needs
 * one. Joining every chunk cost a copy of each byte received and, above all,
 * garbage collection: V8 collects after every few tens of MB of new buffers
 * (measured in bench/transfer: the requester's CPU fell from about 870 to
 * 740 ms per 256 MiB without the join).
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

/**
 * Splits `bytes` `n` bytes before its end: the pieces before (views, no
 * copy) and the last `n` bytes (copied into one buffer; meant for a short
 * trailer such as an authentication tag). Throws RangeError if shorter than `n`.
 */
export function splitTail (bytes: SomeBytes, n: number): { head: Pieces, tail: Uint8Array } {
  const pieces = piecesOf(bytes)
  const total = byteLengthOf(pieces)
  if (!Number.isSafeInteger(n) || n < 0 || n > total) throw new RangeError(`cannot take ${n} bytes from the end of ${total}`)
  const cut = total - n
  const head: Uint8Array[] = []
  const tail = new Uint8Array(n)
  let at = 0
  for (const p of pieces) {
    const end = at + p.byteLength
    if (end <= cut) {
      if (p.byteLength > 0) head.push(p)
    } else {
      const inHead = Math.max(0, cut - at)
      if (inHead > 0) head.push(p.subarray(0, inHead))
      tail.set(p.subarray(inHead), at + inHead - cut)
    }
    at = end
  }
  return { head, tail }
}
