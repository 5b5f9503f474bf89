/**
 * CRC-32 (ISO-HDLC: polynomial 0xEDB88320 reflected, init and final xor
 * 0xFFFFFFFF; the one of zlib, PNG and Ethernet), to catch corrupted
 * feature records. Not a security check: records travel inside
 * authenticated channels and signed metadata.
 */

const TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

export function crc32 (bytes: Uint8Array): number {
  let c = 0xFFFFFFFF
  for (let i = 0; i < bytes.length; i++) c = (TABLE[(c ^ (bytes[i] as number)) & 0xFF] as number) ^ (c >>> 8)
  return (c ^ 0xFFFFFFFF) >>> 0
}
