/**
 * The application API (DSE³), mirroring the paper's listing in §4.5:
 *
 *   query   →  inqdm2image(request, &Imageslistforpatient)
 *   pick one, `parameters(lfn)`  →  inqDM2image(id, &Algoparametersforimage)
 *   `comparable(lfn)`  →  inqDM2image(id, &Comparablerequest, &params, &Comparableimageslist)
 *   `getImage(lfn)`  →  the volume, wherever it is held
 *
 * A client acts for one user (key and certificates) through a running node.
 *
 * @example
 * ```ts
 * const client = new Dm2Client(node, { signer: cardiologist, certificates })
 * const { results } = await client.query('modality = "CT" AND bodyPart = "CHEST"')
 * const params = await client.parameters(results[0].lfn)
 * const similar = await client.comparable(results[0].lfn)
 * await client.getImage(results[0].lfn, { out: 'ct.nii.gz' })
 * const ranked = await client.similar(results[0].lfn, { measure: 'cr', topK: 10 })
 * await client.annotate(ranked.results[0].lfn, 'dilated cardiomyopathy')
 * ```
 */
import type { AbortOptions, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { LfnRecord } from '../dht/index.js'
import type { HospitalNode } from '../node/index.js'
import type { FanOutResult } from '../protocols/query/index.js'
import { getImage, type GetImageOptions, type GetImageResult } from './get-image.js'
import { annotate, similar, type SimilarOptions, type SimilarQuery, type SimilarResult } from './similar.js'
import { Wallet, type UserIdentity } from './wallet.js'

export interface QueryOptions extends AbortOptions {
  identified?: boolean
  limit?: number
  timeoutMs?: number
}

export class Dm2Client {
  readonly node: HospitalNode
  readonly wallet: Wallet

  constructor (node: HospitalNode, user: UserIdentity) {
    this.node = node
    this.wallet = new Wallet(user)
  }

  /** An authorization for `peer` from the chain its custodian issued, or undefined if the user holds none. */
  private authFor (peer: PeerId, command: string, args: Uint8Array, ability: 'query' | 'meta/read-identified'): Uint8Array | undefined {
    const custodian = peer.publicKey?.raw
    const chain = custodian === undefined ? undefined : this.wallet.chainFor(custodian, ability)
    if (chain === undefined) return undefined
    return this.wallet.authorization(chain, { audience: peer.toString(), origin: this.node.peerId.toString(), command, args })
  }

  /** Runs `where` at every member site offering metadata; returns the union the user may see, and the sites that did not answer. */
  async query (where: string, options: QueryOptions = {}): Promise<FanOutResult> {
    const identified = options.identified ?? false
    return await this.node.libp2p.services.query.fanOut({
      sites: this.node.metadataSites().map(s => peerIdFromString(s)),
      query: where,
      identified,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      auth: (peer, args) => this.authFor(peer, 'query', args, identified ? 'meta/read-identified' : 'query')
    })
  }

  /** The published parameters of an LFN: master, version, descriptive metadata. */
  async parameters (lfn: string, options: AbortOptions = {}): Promise<LfnRecord> {
    return await this.node.localization.resolveLfn(lfn, options)
  }

  /** Series comparable to `lfn`: same modality and body region, optionally with a diagnosis known and more constraints. */
  async comparable (lfn: string, options: QueryOptions & { where?: string, diagnosisKnown?: boolean } = {}): Promise<FanOutResult> {
    const { meta } = await this.parameters(lfn, options)
    const terms: string[] = []
    if (typeof meta.modality === 'string') terms.push(`modality = ${JSON.stringify(meta.modality)}`)
    if (typeof meta.bodyPart === 'string') terms.push(`bodyPart = ${JSON.stringify(meta.bodyPart)}`)
    // The paper's "Comparablerequest": same modality and region, and a diagnosis known (§4.5).
    if (options.diagnosisKnown === true) terms.push('diagnosisKnown')
    if (options.where !== undefined) terms.push(`(${options.where})`)
    const result = await this.query(terms.length === 0 ? 'slices > 0' : terms.join(' AND '), options)
    return { ...result, results: result.results.filter(r => r.lfn !== lfn) }
  }

  /** The volume of `lfn` as NIfTI, from its master and replicas. */
  async getImage (lfn: string, options: GetImageOptions): Promise<GetImageResult> {
    return await getImage(this.node, this.wallet, lfn, options)
  }

  /**
   * Series most similar to `query` (an LFN, a volume, or features), ranked at
   * each site next to its images; best first, with the sites that did not
   * answer in `partial`. Diagnoses show where the user's chain grants meta/read.
   */
  async similar (query: SimilarQuery, options: SimilarOptions = {}): Promise<SimilarResult> {
    return await similar({ node: this.node, wallet: this.wallet, query: async (where, o) => await this.query(where, o) }, query, options)
  }

  /** Attaches a signed diagnosis to `lfn` at its master site (the user's `annotate` right); resolves the record id. */
  async annotate (lfn: string, diagnosis: string, options: AbortOptions = {}): Promise<{ id: string, lfn: string, master: string }> {
    return await annotate({ node: this.node, wallet: this.wallet }, lfn, diagnosis, options)
  }
}
