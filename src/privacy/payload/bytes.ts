/** Small byte helpers shared by the payload files. */

const encoder = new TextEncoder()

export function utf8 (s: string): Uint8Array {
  return encoder.encode(s)
}

/** Byte equality. Not constant-time: used on public values only (hashes, ids). */
export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}
