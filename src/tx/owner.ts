/** What steps need from whoever runs them: a transaction, or a joined request's shared execution. */
import type { Logger } from '@libp2p/interface'
import type { CompensationRegistry } from './compensations.js'
import type { UndoLog } from './undo-log.js'
import type { Joiner } from './join.js'
import type { Journal } from './journal.js'
import type { ServicePools } from './pools.js'
import type { Clock, TxProgressEvent } from './types.js'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** An event before the owner adds its transaction id and query name. */
export type OwnerEvent = DistributiveOmit<TxProgressEvent, 'txId' | 'query'>

/** The engine's shared services. */
export interface Runtime {
  journal: Journal
  registry: CompensationRegistry
  pools: ServicePools
  joiner: Joiner
  clock: Clock
  log: Logger
  /** Aborted when the engine closes. */
  closing: AbortSignal
  /** Journal ids of transactions and shared executions running in this process (recovery skips them). */
  active: Set<string>
}

export interface StepOwner {
  readonly id: string
  readonly query: string
  readonly undo: UndoLog
  readonly runtime: Runtime
  emit: (event: OwnerEvent) => void
}
