/**
 * `/dm2/image/1.0.0`: a requester asks the master site of an LFN to prepare
 * its current version (assemble, de-identify, encrypt, cache, announce) and
 * receives the signed manifest; it then pulls the chunks from the master and
 * any replicas over `/dm2/chunks/1.0.0`. Access (`image/read`) is checked
 * before any work. `format` (optional): `nifti` (the assembled volume,
 * default) or `dicom` (the series' objects, each de-identified); both are
 * bound into the invocation's arguments, so a grant for one request cannot
 * be replayed for the other.
 *
 * `key` (optional): a whole `/dm2/keys/1.0.0` request (its own invocation for
 * `keys/release`, bound to the file id, the version the requester expects and
 * its recipient key). When it names the version just prepared, the master
 * runs the key release there and then (the same access check, audited as
 * `keys/release`) and answers the wrapped key with the manifest: one round
 * trip fewer, and no second request competing with the chunks. The wrap
 * itself is computed while the image is built, as soon as its data key is
 * drawn (the prepare hook `onDataKey`), and handed out only after that
 * access check, if the key is still the stored one. Otherwise,
 * or when the release is refused, the answer has no key and the requester
 * asks over `/dm2/keys/1.0.0`, whose typed answer then says why.
 *
 * `inline` (optional, `true`): the requester would take the chunks on this
 * stream. When the version prepared has at most INLINE_MAX_CHUNKS chunks
 * (an image the master alone serves: replicas join only larger transfers),
 * the answer says `inline: true` and a `/dm2/chunks/1.0.0` response follows
 * it on the stream (STATUS, every chunk, END; frames.ts): two round trips
 * fewer than asking for them on a new stream, and no second access check
 * for the same thing (the chunks server at a master judges `image/read` on
 * the same series; this answer was granted just that). The requester checks
 * each chunk's hash against the manifest, as from any source, and asks over
 * `/dm2/chunks/1.0.0` for whatever did not arrive whole.
 *
 * `have` (optional, 32 bytes): the content id (Merkle root) of a copy the
 * requester already holds. When the version prepared has that content id,
 * no chunks follow the answer: the requester reads its own copy, checked
 * against the manifest this answer signs. Access and the key release are
 * judged and audited as for any request; only the bytes stay home.
 *
 * `ahead` (optional, `true`, with `inline`): the requester takes frames
 * before the answer (ahead.ts), so that what a build produces travels while
 * the build goes on instead of after it: the wrapped data key as soon as
 * the build drew it and the key release's access check (judged, on the
 * resource the request itself was judged on, beside the preparation)
 * allowed it, and each chunk of an image small enough to go inline as soon
 * as it is sealed. The answer then lists the manifest, whose hashes the
 * requester checks those chunks against; the chunks that follow it are the
 * ones not sent ahead (those sealed before this request joined a build
 * already under way, or all of them for a cached image). The answer carries
 * a key only if the one sent ahead is not the stored one for the version.
 */
import type { AbortOptions, ComponentLogger, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { hashArguments, type ResourceDescriptor } from '../../sac/index.js'
import { decodeOwnSignedManifest } from '../../privacy/payload/index.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { keyArguments, MAX_WRAPPED_KEY_BYTES, parseKeyRequest, releaseKey, sameKey, wrapAhead, type KeyReleaseInit, type KeyRequest, type WrappedAhead } from '../keys/index.js'
import { authorize, type AccessChecker } from '../authorize.js'
import { MESSAGE_TIMEOUT_MS, openReader, receiveChunks, sendChunks, type ChunkStore, type ReceiveInit } from '../chunks/index.js'
import { PeerQueues } from '../peer-queues.js'
import { asMap, rpcCallWithMore, rpcServer, type AheadSender, type RpcLimits, type RpcMore, type RpcReply } from '../rpc.js'
import { ProtocolError } from '../status.js'
import { chunkCount, type PayloadLayout } from '../../privacy/payload/index.js'
import { aheadChunkHeader, AheadFrames, encodeAheadKey, encodeAheadLayout, MAX_AHEAD_FRAME_BYTES, type AheadChunk, type AheadKey, type AheadListener } from './ahead.js'

export type { AheadChunk, AheadKey, AheadLayout, AheadListener } from './ahead.js'

export const IMAGE_PROTOCOL = '/dm2/image/1.0.0'
export const IMAGE_LIMITS: RpcLimits = { maxRequestBytes: 128 * 1024, maxResponseBytes: 1024 * 1024, timeoutMs: 120_000, maxAheadBytes: MAX_AHEAD_FRAME_BYTES }
const MAX_STREAMS = 16
/** Most chunks sent with an answer: an image this small comes from its master alone (see the module doc). */
export const INLINE_MAX_CHUNKS = 7

export interface ImageServerInit {
  /** What access control needs to know about the LFN's current version, or undefined if unknown here. */
  resourceOf: (lfn: string) => Promise<ResourceDescriptor | undefined>
  /**
   * `fileId`: what the version was sealed and keyed as (the LFN, or a derived id for another format).
   * `onDataKey`: the data key of the build this request starts or joins, with its version and file id;
   * `onSealed`: each chunk that build seals from then on, for an image it holds for an early answer
   * (see ImagePipeline's `onDataKey` and `onSealed`).
   */
  prepare: (lfn: string, options: AbortOptions & {
    format: ImageFormat
    onDataKey?: (dataKey: Uint8Array, version: number, fileId: string) => void
    onSealed?: (chunk: { index: number, bytes: Uint8Array }, layout: PayloadLayout) => void
  }) => Promise<{ fileId: string, version: number, manifest: Uint8Array }>
  access: AccessChecker
  /** Key release handed out with the answer (see the module doc); without it, `key` requests get no key. */
  keys?: KeyReleaseInit
  /** Where the chunks of a prepared version are read, to send them with the answer; without it, never inline. */
  chunks?: ChunkStore
}

export interface ImageComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface ImageRequest {
  lfn: string
  auth: Uint8Array
  format?: ImageFormat
  /** A key release request for the version expected (its `lfn` is the file id: see `imageId`). */
  key?: KeyRequest
  /** Take the chunks with the answer, if the master sends them so (see the module doc). */
  inline?: boolean
  /** The content id of a copy the requester holds: no chunks are sent with the answer for that content (see the module doc). */
  have?: Uint8Array
  /** Take the key and the chunks ahead of the answer, as the build produces them (with `inline`; see the module doc). */
  ahead?: boolean
  /** Sees what is sent ahead as it arrives (to unwrap the key and open the chunks while the image is built). */
  onAhead?: AheadListener
}

export interface ImageAnswer {
  version: number
  manifest: Uint8Array
  /** The data key wrapped to `key.recipient`, when the key request was for this version and allowed. */
  wrapped?: Uint8Array
  /** The chunks, following on the answer's stream: receive them, or abandon them (one of the two, always). */
  inline?: InlineChunks
  /** The key sent ahead of the answer (superseded by `wrapped`), unchecked: see the module doc. */
  aheadKey?: AheadKey
  /**
   * The chunks sent ahead of the answer, by index, unchecked: each counts
   * only if the manifest lists its hash. The chunks that follow the answer
   * are the others.
   */
  aheadChunks?: ReadonlyMap<number, AheadChunk>
}

export interface InlineChunks {
  /** Every chunk of the manifest, hash-checked (see receiveChunks); resolves to the indexes the master did not send. */
  receive: (init: Omit<ReceiveInit, 'stream'>) => Promise<number[]>
  /** Lets the stream go unread. */
  abandon: (reason?: Error) => void
}

export interface ImageRequester {
  /** Asks `peer` (the master) to prepare `lfn`; returns the version and signed manifest (and the wrapped key, see ImageRequest.key). */
  prepare: (peer: PeerId, request: ImageRequest, options?: AbortOptions) => Promise<ImageAnswer>
}

const REQUEST_FIELDS: ReadonlySet<string> = new Set(['auth', 'lfn', 'format', 'key', 'inline', 'have', 'ahead'])
/** A content id: SHA-256 Merkle root. */
const CONTENT_ID_BYTES = 32

export type ImageFormat = 'nifti' | 'dicom'

/** The arguments an invocation is bound to; the volume keeps the original form (no format) for compatibility. */
export function imageArguments (lfn: string, format: ImageFormat = 'nifti'): Uint8Array {
  return format === 'nifti' ? hashArguments({ lfn }) : hashArguments({ lfn, format })
}

class ImageService implements ImageRequester, Startable {
  private readonly components: ImageComponents
  private readonly init: ImageServerInit
  private readonly log: Logger
  /** Requests beyond the stream limit wait here rather than fail. */
  private readonly outbound = new PeerQueues(MAX_STREAMS)

  constructor (components: ImageComponents, init: ImageServerInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('dm2:image')
  }

  private readonly serve = async (m: Record<string, unknown>, connection: { remotePeer: PeerId }, signal: AbortSignal, send: AheadSender): Promise<RpcReply> => {
    const fields = new Set(Object.keys(m))
    if (!fields.has('auth') || !fields.has('lfn') || [...fields].some(f => !REQUEST_FIELDS.has(f))) throw new ProtocolError('unexpected fields')
    if (typeof m.lfn !== 'string' || m.lfn.length === 0 || m.lfn.length > 128 || !(m.auth instanceof Uint8Array)) throw new ProtocolError('bad request')
    const format = m.format ?? 'nifti'
    if (format !== 'nifti' && format !== 'dicom') throw new ProtocolError('unknown format')
    if (m.inline !== undefined && m.inline !== true) throw new ProtocolError('bad inline flag')
    if (m.ahead !== undefined && (m.ahead !== true || m.inline !== true)) throw new ProtocolError('bad ahead flag')
    if (m.have !== undefined && (!(m.have instanceof Uint8Array) || m.have.byteLength !== CONTENT_ID_BYTES)) throw new ProtocolError('bad content id')
    const have = m.have as Uint8Array | undefined
    // Checked before any work, like everything else in the request.
    const keyRequest = m.key === undefined ? undefined : parseKeyRequest(asMap(m.key))
    const resource = await this.init.resourceOf(m.lfn)
    if (resource === undefined) return { status: 'NOT_FOUND' }
    const access = await authorize(this.init.access, m.auth, {
      command: 'image/prepare',
      args: imageArguments(m.lfn, format),
      resource,
      ability: 'image/read',
      remotePeer: connection.remotePeer.toString()
    })
    if (!access.allowed) return access.reply
    let prepared
    const keys = this.init.keys
    const remotePeer = connection.remotePeer.toString()
    /** Frames ahead of the answer, when asked for (see the module doc). */
    const early = m.ahead === true ? send : undefined
    /** The key release's wrap, computed while the image is built (checked and handed out below, or sent ahead). */
    let ahead: WrappedAhead | undefined
    /** How the key fared ahead of the answer: the wrap `ahead` sent; judged and allowed or refused, but not sent; or not judged. */
    let keyAhead: Promise<'sent' | 'allowed' | 'refused' | 'unjudged'> | undefined
    const onDataKey = keyRequest === undefined || keys === undefined
      ? undefined
      : (dataKey: Uint8Array, version: number, fileId: string) => {
          if (version !== keyRequest.version || ahead !== undefined) return
          const wrap = wrapAhead(dataKey, keyRequest)
          ahead = wrap
          if (early === undefined || fileId !== keyRequest.lfn) return
          // The key release's own access check (audited as keys/release), judged while the image is built.
          const judged = authorize(this.init.access, keyRequest.auth, {
            command: 'keys/release', args: keyArguments(keyRequest.lfn, keyRequest.version, keyRequest.recipient), resource, ability: 'image/read', remotePeer
          })
          keyAhead = judged.then(async access => {
            if (!access.allowed) return 'refused'
            const wrapped = await wrap.wrapped
            return wrapped !== undefined && early(encodeAheadKey(version, wrapped)) ? 'sent' : 'allowed'
          }, () => 'unjudged' as const)
        }
    /** The chunks that went ahead of the answer (after the layout of their sealing). */
    const sentAhead = new Set<number>()
    let layoutSent: PayloadLayout | undefined
    const onSealed = early === undefined
      ? undefined
      : (chunk: { index: number, bytes: Uint8Array }, layout: PayloadLayout) => {
          if (chunkCount(layout) > INLINE_MAX_CHUNKS || sentAhead.has(chunk.index)) return
          if (layoutSent === undefined) {
            if (!early(encodeAheadLayout(layout))) return
            layoutSent = layout
          }
          // Only chunks of the sealing whose layout went (a build started anew would have another).
          if (layoutSent !== layout) return
          if (early(new Uint8ArrayList(aheadChunkHeader(chunk.index), chunk.bytes))) sentAhead.add(chunk.index)
        }
    try {
      prepared = await this.init.prepare(m.lfn, { signal, format, ...(onDataKey === undefined ? {} : { onDataKey }), ...(onSealed === undefined ? {} : { onSealed }) })
    } catch (err) {
      // Admission control said no: the requester may retry later.
      if ((err as Error).name === 'BusyError') return { status: 'BUSY' }
      if ((err as Error).name === 'UnknownLfnError') return { status: 'NOT_FOUND' }
      throw err
    }
    this.log('prepared %s v%d for %p', m.lfn, prepared.version, connection.remotePeer)
    const body: Record<string, unknown> = { version: prepared.version, manifest: prepared.manifest }
    // No key with the answer if the one sent ahead is the stored one, or if the release was judged and refused there
    // (an invocation is good for one decision: a release judged ahead is not judged again).
    const outcome = await keyAhead ?? 'unjudged'
    if (keyRequest !== undefined && keys !== undefined && keyRequest.lfn === prepared.fileId && keyRequest.version === prepared.version &&
      outcome !== 'refused' && !(outcome === 'sent' && await isStored(keys, keyRequest, ahead))) {
      const released = await releaseKey(keys, keyRequest, connection.remotePeer, ahead, outcome !== 'unjudged')
      // Refused or not found: no key here; the requester's own key request gets the typed answer.
      if (released.status === 'OK') {
        body.wrapped = released.body.wrapped
        this.log('released key of %s v%d to %p', keyRequest.lfn, keyRequest.version, connection.remotePeer)
      }
    }
    const more = m.inline === true ? await this.inlineChunks(prepared.manifest, have, sentAhead) : undefined
    if (more === undefined) return { status: 'OK', body }
    body.inline = true
    return { status: 'OK', body, more }
  }

  /** The chunks of a manifest just prepared, to send after the answer (but those `sentAhead`); undefined if too many, not held, or already the requester's. */
  private async inlineChunks (encoded: Uint8Array, have: Uint8Array | undefined, sentAhead: ReadonlySet<number>): Promise<RpcMore | undefined> {
    const store = this.init.chunks
    if (store === undefined) return undefined
    const manifest = decodeOwnSignedManifest(encoded)
    if (manifest.chunks.length > INLINE_MAX_CHUNKS) return undefined
    if (have !== undefined && Buffer.compare(have, manifest.merkleRoot) === 0) return undefined
    const reader = await openReader(store, manifest.merkleRoot)
    if (reader === undefined) return undefined
    const indexes = manifest.chunks.map((_, i) => i).filter(i => !sentAhead.has(i))
    return {
      send: async (lp) => { await sendChunks(lp, reader, indexes, MESSAGE_TIMEOUT_MS) },
      release: () => { reader.close() }
    }
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(IMAGE_PROTOCOL, rpcServer(IMAGE_LIMITS, this.serve, this.log), {
      maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(IMAGE_PROTOCOL)
  }

  async prepare (peer: PeerId, request: ImageRequest, options: AbortOptions = {}): Promise<ImageAnswer> {
    const message: Record<string, unknown> = { lfn: request.lfn, auth: request.auth }
    // The volume's request keeps its original form (no format field).
    if (request.format !== undefined && request.format !== 'nifti') message.format = request.format
    if (request.key !== undefined) message.key = { ...request.key }
    if (request.inline === true) message.inline = true
    if (request.have !== undefined) message.have = request.have
    const aheadFrames = request.ahead === true && request.inline === true ? new AheadFrames(INLINE_MAX_CHUNKS, request.onAhead) : undefined
    if (aheadFrames !== undefined) message.ahead = true
    // The stream slot stays taken until the stream is done with (chunks may follow the answer).
    let answer!: (reply: { body: Record<string, unknown>, stream: Stream }) => void
    let fail!: (err: unknown) => void
    const answered = new Promise<{ body: Record<string, unknown>, stream: Stream }>((resolve, reject) => { answer = resolve; fail = reject })
    this.outbound.run(peer, async () => {
      const stream = await this.components.connectionManager.openStream(peer, IMAGE_PROTOCOL, options)
      const reply = await rpcCallWithMore(stream, message, IMAGE_LIMITS, options.signal, aheadFrames?.take)
      const done = new Promise<void>(resolve => {
        if (reply.stream.status !== 'open' && reply.stream.status !== 'closing') resolve()
        else reply.stream.addEventListener('close', () => { resolve() }, { once: true })
      })
      answer(reply)
      await done
    }, options.signal).catch(fail)
    const { body, stream } = await answered
    try {
      if (typeof body.version !== 'number' || !(body.manifest instanceof Uint8Array)) throw new ProtocolError('bad image answer')
      const answer: ImageAnswer = { version: body.version, manifest: body.manifest }
      if (aheadFrames?.key !== undefined) answer.aheadKey = aheadFrames.key
      if (aheadFrames !== undefined && aheadFrames.chunks.size > 0) answer.aheadChunks = aheadFrames.chunks
      if (body.wrapped !== undefined) {
        if (!(body.wrapped instanceof Uint8Array) || body.wrapped.byteLength > MAX_WRAPPED_KEY_BYTES) throw new ProtocolError('bad wrapped key in the image answer')
        answer.wrapped = body.wrapped
      }
      if (body.inline === undefined) {
        await stream.close(options).catch(() => {})
        return answer
      }
      if (body.inline !== true || request.inline !== true) throw new ProtocolError('bad inline flag in the image answer')
      answer.inline = {
        receive: async (init) => {
          const received = receiveChunks({ ...init, stream })
          // What arrived meanwhile is dispatched now, to the listeners receiveChunks has set.
          stream.resume()
          try {
            return await received
          } catch (err) {
            stream.abort(err as Error)
            throw err
          }
        },
        abandon: (reason) => { stream.abort(reason ?? new Error('inline chunks not wanted')) }
      }
      return answer
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }
}

/** True if the key of `ahead` is the one stored for the requested version. */
async function isStored (keys: KeyReleaseInit, req: KeyRequest, ahead: WrappedAhead | undefined): Promise<boolean> {
  if (ahead === undefined) return false
  const stored = keys.keys.dataKey !== undefined ? await keys.keys.dataKey(req.lfn, req.version) : (await keys.keys.get(req.lfn, req.version))?.dataKey
  return stored !== undefined && sameKey(ahead.dataKey, stored)
}

export function imageService (init: ImageServerInit): (components: ImageComponents) => ImageRequester {
  return (components) => new ImageService(components, init)
}
