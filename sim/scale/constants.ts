/** Defaults of the `scale` scenario, in one place. */

/** Network sizes measured by default. */
export const DEFAULT_NODE_COUNTS = [50, 75, 100]
/** Network size of `--quick`. */
export const QUICK_NODE_COUNTS = [12]
/** Seed of identities, bootstrap graph and lookups. */
export const DEFAULT_SEED = 1
/** Lookups of each kind (findPeer, findProviders, getLfn) per network size. */
export const DEFAULT_LOOKUPS_PER_KIND = 20
export const QUICK_LOOKUPS_PER_KIND = 4
/**
 * Worker processes the nodes are spread over: more than the 2 cores so that a
 * lookup's hops cross processes, and so memory per node is measured on
 * processes of a realistic size (RSS ÷ nodes hosted).
 */
export const DEFAULT_WORKERS = 4
export const QUICK_WORKERS = 2
/** Peers each node dials at start (one of them an earlier node, so the graph is connected). */
export const BOOTSTRAP_DEGREE = 3
/** Nodes join (dial their peers) this many at a time, */
export const DIAL_WAVE_SIZE = 10
/** at least this long apart, */
export const DIAL_WAVE_GAP_MS = 1_000
/** and once every worker's event loop answers within this again (p99 over half a second), */
export const CALM_LOOP_DELAY_MS = 100
/** or this long has passed. */
export const CALM_TIMEOUT_MS = 5_000
/** Time allowed for one start-up dial (tried twice). */
export const DIAL_TIMEOUT_MS = 10_000
/** Routing tables are settled when no table changed for this long (kad-dht's first self query runs 1 s after start). */
export const SETTLE_QUIET_MS = 3_000
/** Give up waiting for settled routing tables after this long (then measure anyway, and say so). */
export const SETTLE_TIMEOUT_MS = 30_000
/** Time allowed for one lookup. */
export const LOOKUP_TIMEOUT_MS = 15_000
/** LFNs published per network (looked up round robin by findProviders and getLfn). */
export const OBJECTS = 10
/** Publications (LFN record + provider record) run this many at a time. */
export const PUBLISH_CONCURRENCY = 4
/** Time allowed for one IPC command to a worker (starting 25 nodes included). */
export const WORKER_COMMAND_TIMEOUT_MS = 120_000
/** Time a worker gets to stop its nodes before it is killed. */
export const WORKER_STOP_TIMEOUT_MS = 15_000
