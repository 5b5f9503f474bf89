/**
 * Every default of a hospital node, in one place. Documentation and the CLI's
 * help read these constants; `test/config/defaults.test.ts` checks the README
 * says the same.
 */

/** Name of the config file `dm2 init` writes in a hospital's directory. */
export const CONFIG_FILE_NAME = 'dm2.json'
/** The node's libp2p identity (protobuf-encoded Ed25519 private key), in the data directory. */
export const IDENTITY_FILE_NAME = 'identity.key'
/** The local control channel of a running node (Unix socket, mode 0600), in the data directory. */
export const CONTROL_SOCKET_NAME = 'control.sock'
/** The node's LevelDB database, a folder in the data directory. */
export const DATABASE_DIR_NAME = 'db'

/** Private Kademlia protocol of the federation: never joins the public IPFS DHT. */
export const DHT_PROTOCOL = '/dm2/kad/1.0.0'

export const DEFAULT_DATA_DIR = '.'
export const DEFAULT_LISTEN_HOST = '127.0.0.1'
export const DEFAULT_LISTEN_PORT = 4001
export const DEFAULT_LISTEN = [`/ip4/${DEFAULT_LISTEN_HOST}/tcp/${DEFAULT_LISTEN_PORT}`]

export const DEFAULT_DICOM_AE_TITLE = 'DM2'
export const DEFAULT_DICOM_HOST = '127.0.0.1'
export const DEFAULT_DICOM_PORT = 11112

export const DEFAULT_PACS_AE_TITLE = 'PACS'
export const DEFAULT_PACS_HOST = '127.0.0.1'
export const DEFAULT_PACS_PORT = 4242

export const LOG_LEVELS = ['silent', 'error', 'info', 'debug', 'trace'] as const
export type LogLevel = typeof LOG_LEVELS[number]
export const DEFAULT_LOG_LEVEL: LogLevel = 'info'

/** First retry after a failed bootstrap dial; doubles up to the maximum. */
export const DEFAULT_BOOTSTRAP_RETRY_MS = 500
export const DEFAULT_BOOTSTRAP_RETRY_MAX_MS = 30_000

/** Hospitals started by `dm2 federation local` unless `--hospitals` says otherwise. */
export const DEFAULT_LOCAL_HOSPITALS = 6

/**
 * libuv's thread pool for a node process (UV_THREADPOOL_SIZE; Node's default
 * is 4). Slice files, chunk files, LevelDB (classic-level) and WebCrypto
 * (HPKE key wrapping) all queue on it, and a file creation can take
 * milliseconds (the inode allocation of a busy ext4): with 4 threads, an
 * unwrap of 0.1 ms waited behind file work. Measured with six nodes in one
 * process (bench/getimage): full miss 182-207 -> 142-148 ms, slice-cache hit
 * 88-108 -> 72-74 ms. It must be in the environment before Node starts:
 * `bin/dm2.cjs` sets it unless the operator did, and so do the processes the
 * simulator and the benchmarks start (`withThreadpool`).
 */
export const DEFAULT_THREADPOOL_SIZE = 16

/** `env` with UV_THREADPOOL_SIZE defaulted to DEFAULT_THREADPOOL_SIZE (an operator's value is kept). */
export function withThreadpool (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE ?? String(DEFAULT_THREADPOOL_SIZE) }
}

/** The V8 heap's growth between full collections, set at start-up (see heap.ts). */
export { DEFAULT_HEAP_GROWING_PERCENT } from './heap.js'

/** Replicas kept of each image a site masters, on distinct storage-role sites. */
export { DEFAULT_REPLICATION_FACTOR } from '../replicas/constants.js'
