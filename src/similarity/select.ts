/**
 * Bounded selection of the k smallest (key, index) pairs, lexicographic, so
 * ties resolve to the lower index and results are deterministic. A binary
 * max-heap on typed arrays: no allocation per item, O(log k) per kept item,
 * O(1) per item that does not beat the current k-th.
 */
export class SmallestK {
  private keys: Float64Array
  private items: Int32Array
  private k = 0
  private n = 0

  constructor (capacity = 16) {
    this.keys = new Float64Array(capacity)
    this.items = new Int32Array(capacity)
  }

  /** Empties the selection and sets k (growing the buffers if needed). */
  reset (k: number): void {
    if (k > this.keys.length) {
      this.keys = new Float64Array(k)
      this.items = new Int32Array(k)
    }
    this.k = k
    this.n = 0
  }

  get size (): number { return this.n }

  private above (ka: number, ia: number, kb: number, ib: number): boolean {
    return ka > kb || (ka === kb && ia > ib)
  }

  offer (key: number, item: number): void {
    const keys = this.keys
    const items = this.items
    if (this.n < this.k) {
      // sift up
      let c = this.n++
      while (c > 0) {
        const p = (c - 1) >> 1
        if (!this.above(key, item, keys[p] as number, items[p] as number)) break
        keys[c] = keys[p] as number
        items[c] = items[p] as number
        c = p
      }
      keys[c] = key
      items[c] = item
      return
    }
    if (this.k === 0 || !this.above(keys[0] as number, items[0] as number, key, item)) return
    // replace the root (the largest kept) and sift down
    const n = this.n
    let c = 0
    for (;;) {
      const l = 2 * c + 1
      if (l >= n) break
      const r = l + 1
      const m = r < n && this.above(keys[r] as number, items[r] as number, keys[l] as number, items[l] as number) ? r : l
      if (!this.above(keys[m] as number, items[m] as number, key, item)) break
      keys[c] = keys[m] as number
      items[c] = items[m] as number
      c = m
    }
    keys[c] = key
    items[c] = item
  }

  /** The kept pairs, ascending by (key, index); the selection is left empty. */
  drain (): Array<{ key: number, item: number }> {
    const out: Array<{ key: number, item: number }> = []
    for (let i = 0; i < this.n; i++) out.push({ key: this.keys[i] as number, item: this.items[i] as number })
    this.n = 0
    return out.sort((a, b) => a.key - b.key || a.item - b.item)
  }

  /** Kept items into `out` (any order); returns how many. */
  drainItems (out: Int32Array): number {
    const n = this.n
    out.set(this.items.subarray(0, n))
    this.n = 0
    return n
  }
}
