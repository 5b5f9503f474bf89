/**
 * How far V8 lets a node's heap grow between two full garbage collections.
 * Applied once, when the process starts (src/polyfill.ts imports this module
 * first in every entry point).
 *
 * V8 sizes the old generation limit from its own estimate of GC and mutator
 * speed. For a node that moves images, that estimate comes out near its
 * minimum: the requests' medium-lived objects are promoted by every
 * scavenge, and the next incremental marking starts after a few MB of them.
 * Measured with six nodes in one process (bench/getimage, 16 rounds, two
 * runs each way, `--trace-incremental-marking`):
 * - V8's own heuristic: 45 and 49 marking cycles; full miss 111 and 120 ms
 *   against getscu 70 and 72;
 * - growth factor 2 (`heap_growing_percent` 100): 23 and 24 cycles; full
 *   miss 101 and 97 ms against getscu 80 and 70;
 * - factor 3 (200): 20 cycles each; 104 and 98 ms.
 * A cycle costs the main thread 20-40 ms of incremental marking and its
 * finalization, and keeps V8's helper threads busy on a core that the PACS
 * and the thread pool also want.
 *
 * The cost is memory: up to twice the live heap before a collection (tens of
 * MB for a node). An operator's own `--heap-growing-percent` on the command
 * line is left alone; `DM2_HEAP_GROWING_PERCENT` overrides the default, and
 * `0` keeps V8's heuristic.
 */
import { setFlagsFromString } from 'node:v8'

export const DEFAULT_HEAP_GROWING_PERCENT = 100
/** Largest accepted value (a factor of 11). */
const MAX_HEAP_GROWING_PERCENT = 1000

/**
 * The heap growth to set (percent above the live heap), or undefined when
 * V8's flag is already on the command line or the operator chose `0`.
 * Throws RangeError for an unusable `DM2_HEAP_GROWING_PERCENT`.
 */
export function heapGrowingPercent (execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (execArgv.some(a => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return undefined
  const raw = env.DM2_HEAP_GROWING_PERCENT
  const percent = raw === undefined ? DEFAULT_HEAP_GROWING_PERCENT : Number(raw)
  if (raw !== undefined && (!/^[0-9]{1,4}$/.test(raw) || percent > MAX_HEAP_GROWING_PERCENT)) {
    throw new RangeError(`DM2_HEAP_GROWING_PERCENT must be an integer from 0 to ${MAX_HEAP_GROWING_PERCENT}, not "${raw}"`)
  }
  return percent === 0 ? undefined : percent
}

const percent = heapGrowingPercent()
// Read by V8 each time it sets the next collection's limit, so setting it now takes effect from the first one.
if (percent !== undefined) setFlagsFromString(`--heap-growing-percent=${percent}`)
