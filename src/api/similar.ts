/**
 * `similar` and `annotate` of the application API (paper §2.3, §4.5): rank
 * the federation's series by similarity to a query image, the computation
 * running at each site next to its images; attach a diagnosis at an LFN's
 * master site.
 *
 * The query's features are computed where its image is: from this site's
 * feature index for a series it masters (after an audited check of the
 * user's `similarity` right on it), from a volume given by the caller, or,
 * for another site's series, from its image fetched with getImage (the
 * user's `image/read` right) and assembled here. Only the features travel,
 * with one invocation per site.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { readNifti } from '../assembly/index.js'
import type { HospitalNode } from '../node/index.js'
import { QUERY_FEATURES_COMMAND, queryFeaturesArguments } from '../node/similarity/index.js'
import type { FanOutResult, PartialSite } from '../protocols/query/index.js'
import { annotateArguments, MAX_SITE_TOP_K, type FederationResult } from '../protocols/similarity/index.js'
import type { Ability } from '../sac/index.js'
import {
  createDiagnosis, decodeFeatures, encodeFeatures, extractFeatures, isMeasureName, type Features, type MeasureName, type VolumeInput
} from '../similarity/index.js'
import { NoChainError, SimilarOptionsError } from './errors.js'
import { getImage } from './get-image.js'
import type { Wallet } from './wallet.js'

/** The paper's reference measure (Roche et al., MICCAI'98): robust to any functional intensity change. */
export const DEFAULT_SIMILAR_MEASURE: MeasureName = 'cr'
export const DEFAULT_SIMILAR_TOP_K = 10
/** Most LFNs a `where` narrowing considers (the metadata query's own maximum). */
export const MAX_WHERE_RESULTS = 1000

/** An LFN, an assembled volume, or features already extracted. */
export type SimilarQuery = string | VolumeInput | Features

export interface SimilarOptions extends AbortOptions {
  measure?: MeasureName
  /** 1…100 (default 10). */
  topK?: number
  /**
   * Keep only series matching this metadata query (dm2 query syntax); run
   * as a federated query (needs the `query` right). Sites then return their
   * best 100, of which those matching are kept.
   */
  where?: string
  /** Rank only series with a known diagnosis. */
  requireDiagnosis?: boolean
  /** Per-site deadline, ms. */
  timeoutMs?: number
}

export interface SimilarResult extends FederationResult {
  /** The query's keys, and its LFN (never among the results) when it was one. */
  query: { lfn?: string, modality: string, bodyPart: string }
  /** The `where` narrowing: how many series matched, whether that list was cut, sites that did not answer it. */
  where?: { matched: number, truncated: boolean, partial: PartialSite[] }
}

/** What `similar` needs from the client. */
export interface SimilarContext {
  node: HospitalNode
  wallet: Wallet
  /** The client's metadata query (for `where`). */
  query: (where: string, options: { limit: number, timeoutMs?: number, signal?: AbortSignal }) => Promise<FanOutResult>
}

/** An authorization for `peer` with the chain its custodian issued for `ability`, or undefined. */
export function authorizationFor (ctx: Pick<SimilarContext, 'node' | 'wallet'>, peer: PeerId, ability: Ability, command: string, args: Uint8Array): Uint8Array | undefined {
  const custodian = peer.publicKey?.raw
  const chain = custodian === undefined ? undefined : ctx.wallet.chainFor(custodian, ability)
  if (chain === undefined) return undefined
  return ctx.wallet.authorization(chain, { audience: peer.toString(), origin: ctx.node.peerId.toString(), command, args })
}

function options (o: SimilarOptions): { measure: MeasureName, topK: number } {
  const measure = o.measure ?? DEFAULT_SIMILAR_MEASURE
  if (!isMeasureName(measure)) throw new SimilarOptionsError('measure', 'expected ncc, nmi or cr')
  const topK = o.topK ?? DEFAULT_SIMILAR_TOP_K
  if (!Number.isInteger(topK) || topK < 1 || topK > MAX_SITE_TOP_K) throw new SimilarOptionsError('topK', `expected an integer in [1, ${MAX_SITE_TOP_K}]`)
  return { measure, topK }
}

/** A remote series' volume, fetched (image/read at its master) into a private temporary folder and read back. */
async function remoteVolume (ctx: SimilarContext, lfn: string, signal?: AbortSignal): Promise<VolumeInput> {
  const record = await ctx.node.localization.resolveLfn(lfn, signal === undefined ? {} : { signal })
  const { modality, bodyPart } = record.meta
  if (typeof modality !== 'string') throw new SimilarOptionsError('lfn', 'the series has no published modality')
  const dir = await mkdtemp(join(tmpdir(), 'dm2-similar-'))
  try {
    const out = join(dir, 'query.nii.gz')
    await getImage(ctx.node, ctx.wallet, lfn, { out, ...(signal === undefined ? {} : { signal }) })
    const img = readNifti(new Uint8Array(await readFile(out)))
    // NIfTI-1: scl_slope 0 means the stored values are the values.
    const scaled = Number.isFinite(img.sclSlope) && img.sclSlope !== 0 && Number.isFinite(img.sclInter)
    return {
      data: img.data,
      dims: [img.dims[0] ?? 1, img.dims[1] ?? 1, img.dims[2] ?? 1],
      affine: img.sform,
      rescale: scaled ? { slope: img.sclSlope, intercept: img.sclInter } : { slope: 1, intercept: 0 },
      modality,
      ...(typeof bodyPart === 'string' ? { bodyPart } : {})
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The encoded features of the query, and its LFN if it was one. */
async function queryFeatures (ctx: SimilarContext, query: SimilarQuery, signal?: AbortSignal): Promise<{ bytes: Uint8Array, lfn?: string }> {
  if (typeof query !== 'string') {
    const features = 'thumbnail' in query ? query : extractFeatures(query)
    return { bytes: encodeFeatures(features) }
  }
  const lfn = query
  const { node } = ctx
  if (await node.similarity.resource(lfn) !== undefined) {
    const auth = authorizationFor(ctx, node.peerId, 'similarity', QUERY_FEATURES_COMMAND, queryFeaturesArguments(lfn))
    if (auth === undefined) throw new NoChainError(node.peerId.toString(), 'similarity')
    return { bytes: await node.similarity.queryFeatures(lfn, auth), lfn }
  }
  return { bytes: encodeFeatures(extractFeatures(await remoteVolume(ctx, lfn, signal))), lfn }
}

/** Ranks the series of every site offering metadata; see the module doc. */
export async function similar (ctx: SimilarContext, query: SimilarQuery, o: SimilarOptions = {}): Promise<SimilarResult> {
  const { measure, topK } = options(o)
  const { node } = ctx
  const q = await queryFeatures(ctx, query, o.signal)
  // Room for the query itself, or for what `where` will drop.
  const ask = o.where !== undefined ? MAX_SITE_TOP_K : Math.min(MAX_SITE_TOP_K, topK + (q.lfn === undefined ? 0 : 1))
  const [ranked, narrowed] = await Promise.all([
    node.libp2p.services.similarity.rankFederation({
      sites: node.metadataSites().map(s => peerIdFromString(s)),
      features: q.bytes,
      measure,
      topK: ask,
      requireDiagnosis: o.requireDiagnosis ?? false,
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      auth: (peer, args) => {
        const auth = authorizationFor(ctx, peer, 'similarity', 'similarity', args)
        if (auth === undefined) throw new NoChainError(peer.toString(), 'similarity')
        return auth
      }
    }),
    o.where === undefined
      ? undefined
      : ctx.query(o.where, { limit: MAX_WHERE_RESULTS, ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }), ...(o.signal === undefined ? {} : { signal: o.signal }) })
  ])
  let results = ranked.results.filter(r => r.lfn !== q.lfn)
  const { keys } = decodeFeatures(q.bytes)
  const out: SimilarResult = { results: [], partial: ranked.partial, query: { ...(q.lfn === undefined ? {} : { lfn: q.lfn }), ...keys } }
  if (narrowed !== undefined) {
    const allowed = new Set(narrowed.results.map(r => r.lfn))
    results = results.filter(r => allowed.has(r.lfn))
    out.where = { matched: allowed.size, truncated: narrowed.truncated, partial: narrowed.partial }
  }
  out.results = results.slice(0, topK)
  return out
}

/** Attaches a signed diagnosis to `lfn` at its master site; resolves the record id. */
export async function annotate (ctx: Pick<SimilarContext, 'node' | 'wallet'>, lfn: string, text: string, o: AbortOptions = {}): Promise<{ id: string, lfn: string, master: string }> {
  const { node, wallet } = ctx
  const local = await node.similarity.resource(lfn) !== undefined
  const master = local ? node.peerId : peerIdFromString((await node.localization.resolveLfn(lfn, o)).master)
  const custodian = master.publicKey?.raw
  const chain = custodian === undefined ? undefined : wallet.chainFor(custodian, 'annotate')
  if (chain === undefined) throw new NoChainError(master.toString(), 'annotate')
  const leaf = chain[chain.length - 1] as (typeof chain)[number]
  const record = createDiagnosis({ lfn, text, certificateId: leaf.id }, wallet.signer)
  const auth = wallet.authorization(chain, { audience: master.toString(), origin: node.peerId.toString(), command: 'annotate', args: annotateArguments(record.bytes) })
  const id = await node.libp2p.services.annotate.annotate(master, { record: record.bytes, auth }, o)
  return { id, lfn, master: master.toString() }
}
