/**
 * Admission control for queries: at most `maxConcurrent` run, at most
 * `maxQueued` wait in FIFO order, and any more are refused at once with
 * `BusyError` — the paper's daemon "queuing requests when needed to avoid
 * system overflow" (§4.1). A caller that aborts while queued leaves the queue.
 */
import PQueue from 'p-queue'
import { BusyError, TxDefinitionError } from './errors.js'
import { checkConcurrency } from './pools.js'
import { addAbortable } from './queue.js'

export class Admission {
  private readonly queue: PQueue
  private readonly maxQueued: number
  /** Own counts: p-queue updates `pending` a microtask late, which would refuse a caller spuriously. */
  private _running = 0
  private _queued = 0
  private _rejected = 0

  constructor (maxConcurrent: number, maxQueued: number) {
    checkConcurrency(maxConcurrent, 'maxConcurrentQueries')
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new TxDefinitionError(`maxQueuedQueries must be a non-negative integer, got ${maxQueued}`)
    }
    this.queue = new PQueue({ concurrency: maxConcurrent })
    this.maxQueued = maxQueued
  }

  get running (): number { return this._running }
  get queued (): number { return this._queued }
  get rejected (): number { return this._rejected }

  /**
   * Runs `job` when a slot is free. Throws `BusyError` synchronously-in-effect
   * (before anything starts) when the queue is full; `onQueued` is told the
   * caller's 1-based queue position when it has to wait.
   */
  async run<T>(signal: AbortSignal | undefined, onQueued: (position: number) => void, job: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted()
    const mustWait = this._running + this._queued >= this.queue.concurrency
    if (mustWait && this._queued >= this.maxQueued) {
      this._rejected++
      throw new BusyError(this._running, this._queued)
    }
    this._queued++
    let started = false
    if (mustWait) onQueued(this._queued)
    try {
      return await addAbortable(this.queue, signal, async () => {
        started = true
        this._queued--
        this._running++
        try {
          return await job()
        } finally {
          this._running--
        }
      })
    } finally {
      if (!started) this._queued--
    }
  }
}
