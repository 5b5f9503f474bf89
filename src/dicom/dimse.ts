/**
 * The one place that loads dcmjs-dimse (CommonJS, webpack bundle: named
 * exports are not visible to ESM, so it goes through `createRequire`). Its
 * global logger is silenced — it would print every PDU to the console — and
 * its implementation identity is ours. Nothing outside src/dicom/ sees it.
 */
import { createRequire } from 'node:module'
import type * as DcmjsDimse from 'dcmjs-dimse'
import { decodeCommand, encodeCommand } from './command.js'
import { MAX_INBOUND_PDU_BYTES } from './constants.js'
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './part10/meta.js'

const require = createRequire(import.meta.url)
export const dimse = require('dcmjs-dimse') as typeof DcmjsDimse

dimse.log.setLevel('silent')
dimse.Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID)
dimse.Implementation.setImplementationVersion(IMPLEMENTATION_VERSION)
// Process-wide ceiling of the PDU length we advertise; each association sets
// its own below it (PS3.8 Annex D.1).
dimse.Implementation.setMaxPduLength(MAX_INBOUND_PDU_BYTES - 6)

// Every DIMSE message received goes through a memorystream (its command
// set; other data sets are ours, see connection.ts), whose toBuffer() calls
// the deprecated `new Buffer(n)`: Node then captures a stack trace to decide
// whether to warn, for each of a process's first 10,000 calls (about 25 µs
// each, two per C-GET sub-operation). The same concatenation, without it.
type MemoryStreamModule = { createWriteStream: () => object }
const memoryStream = createRequire(require.resolve('dcmjs-dimse'))('memorystream') as MemoryStreamModule
const memoryWritable = Object.getPrototypeOf(memoryStream.createWriteStream()) as { toBuffer: () => Buffer }
memoryWritable.toBuffer = function (this: { queue: Array<Uint8Array | string> }): Buffer {
  return Buffer.concat(this.queue.map(d => (typeof d === 'string' ? Buffer.from(d) : d)))
}

/** Implicit VR Little Endian, the transfer syntax of every command set (PS3.7 §6.3.1). */
const IMPLICIT_VR_LE = '1.2.840.10008.1.2'

type ElementsReader = (this: unknown, buffer: Buffer, transferSyntaxUid: string, readOptions?: unknown) => Record<string, unknown>
const datasetPrototype = dimse.Dataset.prototype as unknown as { _fromElementsBuffer: ElementsReader }
const readElements = datasetPrototype._fromElementsBuffer
// Command sets received are parsed directly (see command.ts); any other
// buffer, or a command the direct decoder does not know, goes to dcmjs.
datasetPrototype._fromElementsBuffer = function (buffer, transferSyntaxUid, readOptions) {
  return (transferSyntaxUid === IMPLICIT_VR_LE ? decodeCommand(buffer) : undefined) ?? readElements.call(this, buffer, transferSyntaxUid, readOptions)
}

/** A command dataset that encodes itself directly (see command.ts). */
export class CommandDataset extends dimse.Dataset {
  override getDenaturalizedCommandDataset (writeOptions?: Record<string, unknown>): Buffer {
    return encodeCommand(this.getElements()) ?? super.getDenaturalizedCommandDataset(writeOptions)
  }
}

/** Switches a request or response to the direct encoder, keeping its elements. */
export function fastCommand<T extends { getCommandDataset: () => InstanceType<typeof dimse.Dataset>, setCommandDataset: (d: InstanceType<typeof dimse.Dataset>) => void }> (command: T): T {
  command.setCommandDataset(new CommandDataset(command.getCommandDataset().getElements()))
  return command
}

export type Dataset = DcmjsDimse.Dataset
export type Association = DcmjsDimse.association.Association
export type PresentationContext = DcmjsDimse.association.PresentationContext
export type Request = DcmjsDimse.requests.Request
export type Response = DcmjsDimse.responses.Response
export type CStoreRequest = DcmjsDimse.requests.CStoreRequest
export type CFindRequest = DcmjsDimse.requests.CFindRequest
export type CGetRequest = DcmjsDimse.requests.CGetRequest
export type CMoveRequest = DcmjsDimse.requests.CMoveRequest
export type CEchoRequest = DcmjsDimse.requests.CEchoRequest
export type CCancelRequest = DcmjsDimse.requests.CCancelRequest

/** DIMSE status codes used here (PS3.7 Annex C; PS3.4 B.2.3, C.4). */
export const Status = {
  Success: 0x0000,
  Warning: 0xb000,
  Cancel: 0xfe00,
  Pending: 0xff00,
  PendingWarning: 0xff01,
  OutOfResources: 0xa700,
  MoveOutOfResourcesSubOps: 0xa702,
  MoveDestinationUnknown: 0xa801,
  DataSetMismatch: 0xa900,
  IdentifierMismatch: 0xa900,
  CannotUnderstand: 0xc000,
  UnableToProcess: 0xc001,
  SubOpsFailed: 0xb000,
  SopClassNotSupported: 0x0122,
  ProcessingFailure: 0x0110,
  NotAuthorized: 0x0124
} as const

/** Statuses that end an operation successfully (0x0000 and warnings 0x0001, 0xBxxx). */
export function isSuccess (status: number): boolean {
  return status === 0 || status === 0x0001 || (status & 0xf000) === 0xb000
}

export function isPending (status: number): boolean {
  return status === Status.Pending || status === Status.PendingWarning
}

/**
 * Members of dcmjs-dimse's Network that its typings leave out. Read once
 * here, behind names of our own, so a library upgrade breaks in one file.
 */
export interface NetworkInternals {
  socket: import('node:net').Socket
  association?: Association
  connected: boolean
  connectedTime?: number
  lastPduTime?: number
  /** Bytes sent and received, which dcmjs-dimse counts per connection. */
  statistics: { addBytesSent: (n: number) => void }
  /** Handles one whole PDU (fed by our PduFramer instead of its accumulator). */
  _processPdu: (pdu: Buffer) => Promise<void>
  /**
   * Extra tag names for writing data sets. Its default, `{}`, makes every
   * data set written merge it into a copy of dcmjs's whole dictionary
   * (about 1.5 ms a time, for a 3-element C-GET identifier as for a slice);
   * undefined writes with the dictionary itself.
   */
  datasetNameMap?: Record<string, unknown>
}
