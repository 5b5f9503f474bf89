/**
 * Every default and limit of the DICOM edge, in one place. The options below
 * extend the `dicom` and `pacs` sections of the hospital config; each is
 * resolved once with `??` in `resolveDicomOptions`.
 */

/** SCU associations to the hospital PACS used at once (the paper's pool of 3). */
export const DEFAULT_SCU_POOL_SIZE = 3
/** TCP connect + A-ASSOCIATE round trip. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** From connection to the first PDU (dcmjs-dimse's association timeout). */
export const DEFAULT_ASSOCIATION_TIMEOUT_MS = 30_000
/** Longest silence from the peer while an association is open (dcmjs-dimse's PDU timeout). */
export const DEFAULT_PDU_TIMEOUT_MS = 60_000
/** Default deadline of one SCU request (C-ECHO, C-FIND, C-GET, C-MOVE) unless the caller passes a signal. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5 * 60_000
/** An idle pooled association is released after this long. */
export const DEFAULT_IDLE_RELEASE_MS = 30_000
/** A release request unanswered for this long ends in an abort. */
export const RELEASE_TIMEOUT_MS = 2_000

/**
 * Largest P-DATA PDU we tell peers to send us (PS3.8 §D.1: Maximum Length
 * Sub-Item); 128 KiB is DCMTK's own ceiling. Independent of what the peer
 * accepts: we send to it within its limit.
 */
export const DEFAULT_MAX_PDU_LENGTH = 131_072
/** Any inbound PDU longer than this aborts the connection before it is buffered. */
export const MAX_INBOUND_PDU_BYTES = 1024 * 1024 + 6
/** Associations served at once by the SCP; more are rejected with "local limit exceeded". */
export const DEFAULT_MAX_ASSOCIATIONS = 32

/** Acknowledge an instance only once it is on stable storage (data fdatasync, rename, file fsync: see SliceStore). */
export const DEFAULT_SYNC_WRITES = true
/**
 * A durable temporary file starts an fdatasync each time this many bytes
 * are unflushed (TempFile's flush ahead), so most of an instance is on disk
 * by the time its last PDV arrives.
 */
export const SYNC_AHEAD_BYTES = 128 * 1024
/**
 * An instance a C-GET brings for a caller that reads it at once (a build's
 * retrieval, `onInstance`) is also kept in memory while it is written, up to
 * this many bytes, inspected there, and handed on with its walk
 * (IngestResult.held): the build reads no file and walks no data set a second
 * time. 4 MiB: a 2048² 16-bit slice; larger ones are read back from disk as
 * before. Other retrievals hold nothing (joining the pieces would only cost
 * them a copy: 512² slices, 200 → 170 images/s).
 */
export const HELD_INSTANCE_BYTES = 4 * 1024 * 1024
/** Largest instance accepted by C-STORE or import (bytes on disk). */
export const DEFAULT_MAX_INSTANCE_BYTES = 2 * 1024 * 1024 * 1024
/** Largest deflated data set we inflate (PS3.5 §A.5), after inflation. */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024
/** Top-level values up to this size are decoded; larger ones (pixel data, overlays) are skipped. */
export const KEEP_VALUE_BYTES = 64 * 1024
/** Nesting limit of sequences. */
export const MAX_SEQUENCE_DEPTH = 16
/** Elements (and pixel fragments) in one instance. */
export const MAX_ELEMENTS = 1_000_000
/** C-FIND matches returned for one request; more end with "out of resources" (PS3.4 C.4.1.1.4). */
export const MAX_FIND_RESULTS = 10_000

/** The slice store inside a hospital's data directory. */
export const SLICE_STORE_DIR_NAME = 'dicom'
/** Folder names inside the slice store. */
export const SLICE_DIR = 'slices'
export const TEMP_DIR = 'tmp'
export const TEMP_SUFFIX = '.part'

/** Where a C-MOVE destination AE title is reached. */
export interface DicomPeer {
  host: string
  port: number
}

/** Options beyond `dicom.aeTitle/host/port` and `pacs.*` (the lead adds them to the config schema). */
export interface DicomOptions {
  /** Calling AE titles the SCP accepts; undefined or empty: any. */
  allowedCallingAeTitles?: readonly string[]
  /** C-MOVE destinations the SCP may send to, by AE title. */
  moveDestinations?: Readonly<Record<string, DicomPeer>>
  scuPoolSize?: number
  connectTimeoutMs?: number
  associationTimeoutMs?: number
  pduTimeoutMs?: number
  requestTimeoutMs?: number
  idleReleaseMs?: number
  maxPduLength?: number
  maxAssociations?: number
  maxInstanceBytes?: number
  /** fsync each received instance before acknowledging it (see SliceStoreInit.sync). */
  syncWrites?: boolean
}

export type ResolvedDicomOptions = Required<Omit<DicomOptions, 'allowedCallingAeTitles' | 'moveDestinations'>> & {
  allowedCallingAeTitles: readonly string[]
  moveDestinations: Readonly<Record<string, DicomPeer>>
}

export function resolveDicomOptions (o: DicomOptions = {}): ResolvedDicomOptions {
  return {
    allowedCallingAeTitles: o.allowedCallingAeTitles ?? [],
    moveDestinations: o.moveDestinations ?? {},
    scuPoolSize: o.scuPoolSize ?? DEFAULT_SCU_POOL_SIZE,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    associationTimeoutMs: o.associationTimeoutMs ?? DEFAULT_ASSOCIATION_TIMEOUT_MS,
    pduTimeoutMs: o.pduTimeoutMs ?? DEFAULT_PDU_TIMEOUT_MS,
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    idleReleaseMs: o.idleReleaseMs ?? DEFAULT_IDLE_RELEASE_MS,
    maxPduLength: o.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
    maxAssociations: o.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS,
    maxInstanceBytes: o.maxInstanceBytes ?? DEFAULT_MAX_INSTANCE_BYTES,
    syncWrites: o.syncWrites ?? DEFAULT_SYNC_WRITES
  }
}

/** Temporary files the slice store opens ahead of need (one per concurrent association, and one more). */
export const SPARE_FILES = 4
/**
 * Folders the temporary files are spread over, round robin (more than
 * SPARE_FILES, so the folder a spare is renamed out of is not the one the
 * next spare is being created in). Creating a file holds its folder's lock
 * for the whole inode allocation, which on an ext4 without a journal scans
 * past every inode freed in the last minutes (`recently_deleted`): a rename
 * out of the same folder waited for it, on the event loop (measured: 9 % of
 * a C-GET's CPU spinning in rename after a test run had deleted many files).
 */
export const TEMP_FOLDERS = 8
/**
 * Empty files the slice store keeps created ahead (closed, `RESERVE_SUFFIX`),
 * so that an arriving instance opens an existing file instead of creating
 * one: creating allocates an inode (0.2 ms to over 1 ms here, more when many
 * files were deleted lately; see TEMP_FOLDERS), opening takes 5 µs. Two
 * series of 32 slices; a larger retrieval creates the rest as before.
 */
export const RESERVE_FILES = 64
export const RESERVE_SUFFIX = '.spare'
/** The reserve is topped up, one file at a time, only once no instance has arrived for this long. */
export const RESERVE_IDLE_MS = 250
