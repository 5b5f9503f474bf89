/** Small 3-vector helpers for geometry (pure). */
export type Vec3 = [number, number, number]

export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s]
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
export const norm = (a: Vec3): number => Math.hypot(a[0], a[1], a[2])
export function normalize (a: Vec3): Vec3 {
  const n = norm(a)
  return n > 0 ? [a[0] / n, a[1] / n, a[2] / n] : [0, 0, 0]
}
