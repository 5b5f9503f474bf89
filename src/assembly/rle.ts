/**
 * RLE Lossless decoding (PS3.5 Annex G): a 64-byte header (segment count,
 * then up to 15 segment offsets, little-endian), then PackBits-coded
 * segments, one per byte plane, most significant byte first.
 */

/** Decodes one PackBits segment into exactly `out.length` bytes; returns false if it runs short. */
function unpackBits (src: Uint8Array, out: Uint8Array): boolean {
  let i = 0
  let o = 0
  const end = src.length
  while (o < out.length && i < end) {
    const h = src[i++] ?? 0
    if (h < 128) { // literal run of h + 1 bytes
      const n = Math.min(h + 1, out.length - o, end - i)
      out.set(src.subarray(i, i + n), o)
      i += h + 1
      o += n
    } else if (h > 128) { // replicate the next byte 257 - h times
      const n = Math.min(257 - h, out.length - o)
      out.fill(src[i++] ?? 0, o, o + n)
      o += n
    } // 128: no operation
  }
  return o === out.length
}

/**
 * Decodes one RLE frame of `pixels` samples of `bytesPerSample` bytes into
 * little-endian memory order. Returns an error text instead of throwing so
 * the caller names the file.
 */
export function rleDecodeFrame (frame: Uint8Array, pixels: number, bytesPerSample: number): Uint8Array | string {
  if (frame.length < 64) return 'RLE frame shorter than its header'
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const segments = view.getUint32(0, true)
  if (segments !== bytesPerSample) return `RLE frame has ${segments} segments, expected ${bytesPerSample}`
  const out = new Uint8Array(pixels * bytesPerSample)
  const plane = new Uint8Array(pixels)
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true)
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length
    if (start < 64 || end > frame.length || end < start) return `RLE segment ${s} has bad offsets`
    if (!unpackBits(frame.subarray(start, end), plane)) return `RLE segment ${s} decodes to fewer than ${pixels} bytes`
    // Segment 0 is the most significant byte: it goes last in little-endian memory.
    const byte = bytesPerSample - 1 - s
    for (let p = 0; p < pixels; p++) out[p * bytesPerSample + byte] = plane[p] ?? 0
  }
  return out
}
