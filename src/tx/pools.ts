/**
 * One bounded pool per external service (the paper's multi-process RQD: "each
 * task could access in parallel an external service through a multiprocess
 * RQD", §3.2.2). Service keys look like `pacs:HOSPITAL_A` or `peer:<id>`.
 */
import PQueue from 'p-queue'
import { MAX_NAME_LENGTH, SERVICE_KEY_SEPARATOR } from './constants.js'
import { TxDefinitionError } from './errors.js'
import { addAbortable } from './queue.js'

export interface PoolStats { running: number, queued: number, concurrency: number }

export function checkServiceKey (service: string): void {
  if (typeof service !== 'string' || service.length === 0 || service.length > MAX_NAME_LENGTH) {
    throw new TxDefinitionError(`malformed service key "${String(service)}"`)
  }
}

export class ServicePools {
  private readonly pools = new Map<string, PQueue>()
  private readonly byKey: Readonly<Record<string, number>>
  private readonly fallback: number

  constructor (byKey: Readonly<Record<string, number>>, fallback: number) {
    for (const [key, value] of Object.entries(byKey)) checkConcurrency(value, `poolConcurrency.${key}`)
    checkConcurrency(fallback, 'defaultPoolConcurrency')
    this.byKey = byKey
    this.fallback = fallback
  }

  /** Exact key first, then its prefix (`pacs` for `pacs:HOSPITAL_A`), then the default. */
  concurrencyOf (service: string): number {
    const prefix = service.split(SERVICE_KEY_SEPARATOR, 1)[0] ?? service
    return this.byKey[service] ?? this.byKey[prefix] ?? this.fallback
  }

  /**
   * Runs `job` holding one slot of the service's pool; waiting is abortable,
   * running is not preempted. The slot is held until the job ends, or until
   * it calls `release()` (done with the service, local work goes on).
   */
  async run<T>(service: string, signal: AbortSignal | undefined, job: (release: () => void) => Promise<T>): Promise<T> {
    checkServiceKey(service)
    let pool = this.pools.get(service)
    if (pool === undefined) {
      const created = new PQueue({ concurrency: this.concurrencyOf(service) })
      // Idle pools are dropped so that the map stays as small as the set of busy services.
      created.on('idle', () => {
        if (created.pending === 0 && created.size === 0 && this.pools.get(service) === created) this.pools.delete(service)
      })
      this.pools.set(service, created)
      pool = created
    }
    let outcome: Promise<T> | undefined
    await addAbortable(pool, signal, async () => {
      let release!: () => void
      const released = new Promise<void>(resolve => { release = resolve })
      outcome = job(release)
      outcome.then(release, release)
      await released
    })
    return await (outcome as Promise<T>)
  }

  stats (): Record<string, PoolStats> {
    const out: Record<string, PoolStats> = {}
    for (const [key, pool] of this.pools) out[key] = { running: pool.pending, queued: pool.size, concurrency: pool.concurrency }
    return out
  }
}

export function checkConcurrency (value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1) throw new TxDefinitionError(`${field} must be a positive integer, got ${value}`)
}
