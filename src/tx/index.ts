/**
 * DSE¹ transactions (paper §3.2.2): atomic operations made of many steps,
 * "a transaction succeeds if and only if all sub-operations succeed".
 *
 * | paper | here |
 * |---|---|
 * | QUery Driver (QUD): a whole transaction of tasks and requests, "in sequence or in parallel" | `engine.run(name, body)`; the body gets a `QueryContext` with `task`, `request`, `tool`, `sequence`, `parallel` |
 * | TasK Driver (TKD): a part of a query, "parallel access to an external service through a set of request drivers" | `q.task(name, { service }, t => …)`; `t.request` / `t.parallel` go through that service's pool |
 * | ReQuest Driver (RQD): "accessing the remote components … connection management", multi-process | `t.request(name, r => …)` (or `q.request` straight from a query): holds one slot of the bounded pool of its service key (`pacs:HOSPITAL_A`, `peer:<id>`; 3 per PACS by default, as in §5) |
 * | TOol Driver (TOD): "caching …, logging, security checking, image processing", usable from every driver | `x.tool(name, s => …)` on every context, run inline |
 *
 * What the engine adds around every step:
 * - **Atomic outcome.** A step calls `s.compensate(kind, data)` *before* an
 *   effect (a temp file, a cache entry, a registration). On any failure or
 *   abort, every compensation runs in reverse order and the caller gets one
 *   `TransactionError` naming the failed step (`step.kind`, `step.name`,
 *   `cause` the original error); an abort gives `TransactionAbortError`
 *   (`name === 'AbortError'`). Nothing still runs when it is thrown. A failed
 *   step's own compensations run as soon as it fails, so a body that catches
 *   the `StepError` and falls back (another PACS, a replica) keeps nothing of
 *   the failed attempt.
 * - **Durable journal** (level, fsync): compensations are journaled by kind
 *   with JSON data; `engine.recover()` at start-up — after every kind is
 *   registered — rolls back what a crash left unfinished, or re-runs queries
 *   made with `engine.resumable(...)`. Handlers must be idempotent.
 * - **Admission control**: `maxConcurrentQueries` run, `maxQueuedQueries`
 *   wait (FIFO), the next gets `BusyError` (§4.1 "queuing requests when
 *   needed to avoid system overflow"). `engine.stats()` has the counters.
 * - **Request joining**: `t.request(name, fn, { join: key })` — identical
 *   requests in flight share one execution; it is aborted only when all of its
 *   callers have aborted.
 * - **AbortSignal** on every context (caller's, engine's, sibling failure,
 *   `timeoutMs`), and `onProgress` events (`step:start`, `step:progress`
 *   with done/total/bytes, `step:end`, …) from every step.
 *
 * Step names are logged: use LFNs, peer ids and counters, never patient data.
 *
 * @example
 * ```ts
 * import { mkdtemp, rm, writeFile } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { Level } from 'level'
 * import { defaultLogger } from '@libp2p/logger'
 * import { TxEngine } from './src/tx/index.js'
 *
 * const dir = await mkdtemp(join(tmpdir(), 'tx-'))
 * const db = new Level<string, string>(join(dir, 'db'))
 * const engine = new TxEngine({ db: db.sublevel<string, string>('tx', {}), logger: defaultLogger() })
 * const removeFile = engine.compensation<{ path: string }>('fs.rm', async ({ path }) => { await rm(path, { force: true }) })
 * await engine.recover()
 *
 * const fetched: string[] = []
 * const files = await engine.run('getImage', async (q) => {
 *   await q.tool('access-check', () => true)
 *   return await q.task('fetch-slices', { service: 'pacs:HOSPITAL_A' }, async (t) =>
 *     await t.parallel([1, 2, 3, 4].map((n) => async (tt) =>
 *       await tt.request(`slice-${n}`, async (r) => {
 *         const path = join(dir, `slice-${n}.dcm`)
 *         await r.compensate(removeFile, { path }) // journaled before the file exists
 *         await writeFile(path, 'DICM', { signal: r.signal })
 *         r.progress({ done: 1, total: 1, bytes: 4 })
 *         return path
 *       }, { join: `slice-${n}` }))))
 * }, { onProgress: (e) => { if (e.type === 'step:progress') fetched.push(e.step.name) } })
 * // files: four paths (fetched: their step names); on failure all four would have been removed
 * await db.close()
 * await rm(dir, { recursive: true })
 * ```
 */
export { TxEngine, type ResumableQuery } from './engine.js'
export {
  BusyError, EngineClosedError, JournalRecordError, StepError, TransactionAbortError, TransactionError,
  TxDefinitionError, UnknownCompensationError, type TransactionErrorInit
} from './errors.js'
export {
  DEFAULT_MAX_CONCURRENT_QUERIES, DEFAULT_MAX_QUEUED_QUERIES, DEFAULT_POOL_CONCURRENCY, MAX_COMPENSATION_DATA_BYTES,
  MAX_RESUME_INPUT_BYTES
} from './constants.js'
export type * from './types.js'
