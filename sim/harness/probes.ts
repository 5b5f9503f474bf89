/**
 * What the fault scenarios check, from the requesting site: access without a
 * valid certificate is refused by the serving site itself (not only by our
 * own wallet), and the federation is whole — every hospital found by a DHT
 * lookup, every LFN resolvable, every image at its replication factor, every
 * master serving, every site answering queries.
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { Dm2Client } from '../../src/api/client.js'
import { getImage } from '../../src/api/get-image.js'
import { Wallet } from '../../src/api/wallet.js'
import { chunkArguments } from '../../src/node/data-plane.js'
import { generateRecipientKeyPair, verifySignedManifest } from '../../src/privacy/payload/index.js'
import { imageArguments } from '../../src/protocols/image/index.js'
import { keyArguments } from '../../src/protocols/keys/index.js'
import { generateSigner, issueCertificate, openCertificate, type Certificate } from '../../src/sac/index.js'
import { withDeadline } from '../lib/deadline.js'
import { joined } from '../../src/codec/pieces.js'
import { voxelDigest } from './dataset.js'
import { FederationNotReadyError } from './errors.js'
import type { SimFederation } from './federation.js'

export interface ProbeImage {
  lfn: string
  hospital: number
  digest: string
}

export interface AccessProbe {
  attempt: string
  /** What happened: `DENIED:<reason>` is the only acceptable outcome. */
  outcome: string
  denied: boolean
}

function outcomeOf (err: unknown): string {
  const e = err as { name?: string, reason?: string, cause?: { name?: string, reason?: string } }
  const denied = e.name === 'DeniedError' ? e : e.cause?.name === 'DeniedError' ? e.cause : undefined
  return denied !== undefined ? `DENIED:${denied.reason ?? ''}` : `ERROR:${e.name ?? 'Error'}`
}

/** Attempts that must all be refused; `holder` is a site holding a replica of the image (if any). */
export async function accessProbes (fed: SimFederation, image: ProbeImage, other: number, holder: string | undefined, scratch: string): Promise<AccessProbe[]> {
  const node = fed.requester
  const h = fed.hospitals[image.hospital]
  const o = fed.hospitals[other]
  if (h === undefined || o === undefined) throw new RangeError('no such hospital')
  const master = peerIdFromString(h.peerId)
  const self = node.peerId.toString()
  const now = Math.floor(Date.now() / 1000)
  const clinician = fed.clinician
  const cert = (fields: { expiry?: number, notBefore?: number, modality?: 'CT' | 'MR' }, signer: Parameters<typeof issueCertificate>[1]): Certificate => openCertificate(issueCertificate({
    audience: clinician.publicKey,
    resource: { selector: { modality: [fields.modality ?? 'CT'] } },
    abilities: ['image/read', 'meta/read', 'query'],
    notBefore: fields.notBefore ?? now - 60,
    expiry: fields.expiry ?? now + 3600,
    purpose: 'TREAT'
  }, signer).bytes)
  const wallet = new Wallet({ signer: clinician, certificates: [] })
  const auth = (chain: Certificate[], audience: string, command: string, args: Uint8Array): Uint8Array =>
    wallet.authorization(chain, { audience, origin: self, command, args })
  const bad: Array<[string, Certificate[]]> = [
    ['self-issued certificate', [cert({}, clinician)]],
    ['expired certificate from the master', [cert({ notBefore: now - 7200, expiry: now - 3600 }, h.signer)]],
    ['certificate from another hospital', [cert({}, o.signer)]],
    ['certificate for MR only', [cert({ modality: 'MR' }, h.signer)]]
  ]
  const probes: AccessProbe[] = []
  const record = async (attempt: string, fn: () => Promise<unknown>): Promise<void> => {
    let outcome = 'ALLOWED'
    try { await fn() } catch (err) { outcome = outcomeOf(err) }
    probes.push({ attempt, outcome, denied: outcome.startsWith('DENIED') })
  }
  await record('no certificate at all', async () => {
    await mkdir(scratch, { recursive: true })
    const out = join(scratch, 'denied.nii')
    await getImage(node, new Wallet({ signer: generateSigner(), certificates: [] }), image.lfn, { out })
    await rm(out, { force: true })
  })
  for (const [what, chain] of bad) {
    await record(`prepare with a ${what}`, async () => await node.libp2p.services.image.prepare(master, { lfn: image.lfn, auth: auth(chain, h.peerId, 'image/prepare', imageArguments(image.lfn)) }))
  }
  // The manifest, fetched with the valid certificate: what the chunk and key probes ask for.
  const valid = fed.wallet().chainFor(master.publicKey?.raw ?? new Uint8Array(), 'image/read')
  if (valid === undefined) throw new FederationNotReadyError('the clinician holds no valid certificate of the master')
  const prepared = await node.libp2p.services.image.prepare(master, { lfn: image.lfn, auth: auth(valid, h.peerId, 'image/prepare', imageArguments(image.lfn)) })
  const manifest = await verifySignedManifest(prepared.manifest, { expectedMaster: h.peerId })
  const cidHex = Buffer.from(manifest.merkleRoot).toString('hex')
  const forged = bad[0]?.[1] as Certificate[]
  for (const [where, peer] of [['master', h.peerId], ['replica holder', holder]] as const) {
    if (peer === undefined) continue
    await record(`chunks from the ${where} with a self-issued certificate`, async () => {
      const got: Uint8Array[] = []
      let dropped: string | undefined
      await node.libp2p.services.chunks.fetch({
        contentId: manifest.merkleRoot,
        chunks: manifest.chunks.map((c, index) => ({ index, id: c.id })),
        sources: [peerIdFromString(peer)],
        sink: { has: async () => false, put: async (_i, bytes) => { got.push(joined(bytes)) } },
        auth: async (p) => auth(forged, p.toString(), 'chunks/get', chunkArguments(cidHex)),
        onProgress: e => { if (e.type === 'source-dropped') dropped = e.reason }
      }).catch(() => {})
      if (got.length > 0) return
      const err = new Error('refused') as Error & { reason?: string }
      err.name = dropped === 'denied' ? 'DeniedError' : 'ChunkFetchError'
      err.reason = dropped ?? 'none'
      throw err
    })
  }
  const recipient = generateRecipientKeyPair()
  await record('key release with a self-issued certificate', async () => await node.libp2p.services.keys.request(master, {
    lfn: image.lfn, version: manifest.version, recipient: recipient.publicKey, auth: auth(forged, h.peerId, 'keys/release', keyArguments(image.lfn, manifest.version, recipient.publicKey))
  }))
  return probes
}

export interface HealthReport {
  ok: boolean
  failures: string[]
}

/**
 * Whether the federation is whole again. `factor`: the replication factor
 * every mastered image must have (checked at each live master).
 */
export async function federationHealth (fed: SimFederation, images: ProbeImage[], factor: number, scratch: string, timeoutMs = 10_000): Promise<HealthReport> {
  const node = fed.requester
  const failures: string[] = []
  const timed = async <T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> => await withDeadline(timeoutMs, work)
  await Promise.all(fed.hospitals.map(async h => {
    try {
      await timed(async signal => await node.libp2p.peerRouting.findPeer(peerIdFromString(h.peerId), { signal, useCache: false }))
    } catch { failures.push(`DHT: ${h.name} not found`) }
  }))
  for (const image of images) {
    try {
      await timed(async signal => await node.localization.resolveLfn(image.lfn, { fresh: true, signal }))
    } catch { failures.push(`DHT: LFN of ${fed.hospitals[image.hospital]?.name ?? '?'} not resolvable`) }
  }
  if (factor > 0) {
    await Promise.all(fed.hospitals.map(async h => {
      try {
        const reports = await h.handle.call('reconcile', undefined, timeoutMs * 4)
        const short = reports.filter(r => r.live.length < factor)
        if (short.length > 0) failures.push(`replication: ${short.length} image(s) of ${h.name} below factor ${factor}`)
      } catch (err) { failures.push(`replication: ${h.name} did not answer (${(err as Error).name})`) }
    }))
  }
  await mkdir(scratch, { recursive: true })
  const client = new Dm2Client(node, fed.user())
  for (const h of fed.hospitals) {
    const image = images.find(i => i.hospital === h.index)
    if (image === undefined) continue
    const out = join(scratch, `health-${h.index}.nii`)
    try {
      // Through the network, not a copy kept here: the health of the federation is what is checked.
      await timed(async signal => await client.getImage(image.lfn, { out, signal, localCopy: false }))
      if (voxelDigest(new Uint8Array(await readFile(out))) !== image.digest) failures.push(`getImage: wrong voxels from ${h.name}`)
    } catch (err) {
      failures.push(`getImage: ${h.name} failed (${(err as Error).name})`)
    } finally {
      await rm(out, { force: true })
    }
  }
  try {
    const r = await timed(async signal => await client.query('modality = "CT"', { signal, timeoutMs }))
    // Sites the clinician holds no certificate of (the requesting site itself) are not asked.
    const missing = r.partial.filter(p => p.reason !== 'NO_AUTHORIZATION')
    if (missing.length > 0) failures.push(`query: ${missing.map(p => p.reason).join(', ')} from ${missing.length} site(s)`)
  } catch (err) { failures.push(`query failed (${(err as Error).name})`) }
  return { ok: failures.length === 0, failures }
}
