/**
 * The cardiologist scenario on a local federation (paper §2.3): each hospital
 * receives synthetic studies from its imagers and registers them; each
 * grants a cardiologist read access to its data with a signed certificate;
 * from the last hospital the cardiologist queries every hospital for CTs,
 * reads the parameters of one held by the first, and gets it as a volume (assembled, de-identified, encrypted at the
 * master, pulled and decrypted here), then asks again (read from the copy
 * kept here, the master still judging, auditing and keying the request), and
 * ranks the most similar CTs across hospitals (paper §2.3, computed at each site).
 */
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Dm2Client } from '../api/index.js'
import type { HospitalNode } from '../node/index.js'
import { generateSigner, issueCertificate } from '../sac/index.js'
import { writeSeries } from '../synthetic/index.js'

export interface ScenarioStep {
  step: string
  ms: number
  detail: string
}

async function timed<T> (steps: ScenarioStep[], step: string, fn: () => Promise<T>, detail: (v: T) => string, print: (s: ScenarioStep) => void): Promise<T> {
  const t = performance.now()
  const value = await fn()
  const s = { step, ms: performance.now() - t, detail: detail(value) }
  steps.push(s)
  print(s)
  return value
}

/** Runs the scenario; `root` receives the synthetic studies and the fetched volume. */
export async function runCardiologistScenario (nodes: HospitalNode[], root: string, print: (s: ScenarioStep) => void, signal?: AbortSignal): Promise<ScenarioStep[]> {
  const steps: ScenarioStep[] = []
  const first = nodes[0] as HospitalNode
  const last = nodes[nodes.length - 1] as HospitalNode
  const lfns = await timed(steps, 'ingest', async () => {
    const out: string[] = []
    for (const [i, node] of nodes.entries()) {
      // A cardiac CT (the paper's 3 slices of 0.5 MB) and a brain MR at every hospital.
      for (const [k, options] of [
        { modality: 'CT' as const, rows: 512, columns: 512, slices: 3, seed: 100 + i },
        { modality: 'MR' as const, rows: 128, columns: 128, slices: 16, seed: 200 + i, orientation: 'sagittal' as const }
      ].entries()) {
        signal?.throwIfAborted()
        const dir = join(root, 'imagers', node.config.name, String(k))
        await mkdir(dir, { recursive: true })
        await writeSeries(dir, options)
        let lfn = ''
        for (const f of await readdir(dir)) lfn = (await node.dicom.ingestor.importFile(join(dir, f))).lfn
        await node.dicom.registry.register(lfn)
        out.push(lfn)
      }
    }
    return out
  }, v => `${v.length} series registered at ${nodes.length} hospitals`, print)

  const cardiologist = generateSigner()
  const user = await timed(steps, 'grant', async () => {
    const s = Math.floor(Date.now() / 1000)
    const certificates = nodes.map(n => issueCertificate({
      audience: cardiologist.publicKey,
      resource: { selector: { modality: ['CT', 'MR'] } },
      abilities: ['image/read', 'meta/read', 'query', 'similarity'],
      notBefore: s - 60,
      expiry: s + 8 * 3600,
      purpose: 'TREAT'
    }, n.siteSigner()).bytes)
    return { signer: cardiologist, certificates }
  }, () => 'one certificate per hospital for the cardiologist (CT and MR, read/query/similarity, 8 h)', print)

  const client = new Dm2Client(last, user)
  const target = lfns[0] as string
  await timed(steps, 'query', async () => {
    // Announcements travel through the DHT; the query asks every site directly.
    for (;;) {
      signal?.throwIfAborted()
      const r = await client.query('modality = "CT"', signal === undefined ? {} : { signal })
      if (r.results.some(x => x.lfn === target)) return r
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }, r => `modality = "CT": ${r.results.length} series at ${new Set(r.results.flatMap(x => x.sites)).size} hospitals${r.partial.length > 0 ? `, ${r.partial.length} did not answer` : ''}`, print)
  const record = await timed(steps, 'parameters', async () => {
    for (;;) {
      signal?.throwIfAborted()
      try {
        return await client.parameters(target, { signal })
      } catch {
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    }
  }, r => `${target} (CT at ${first.config.name}): master …${r.master.slice(-8)}, version ${r.version}, ${JSON.stringify(r.meta)}`, print)

  const out = join(root, `${last.config.name}-${target}.nii.gz`)
  await timed(steps, 'getImage', async () => await client.getImage(record.lfn, { out, ...(signal === undefined ? {} : { signal }) }),
    r => `${r.bytes} bytes of NIfTI from ${Object.keys(r.sources).length} source(s) → ${out}`, print)
  // The copy of what was fetched is written in the background.
  await last.dataPlane.copyWriter.settled()
  await timed(steps, 'getImage again', async () => await client.getImage(record.lfn, { out, ...(signal === undefined ? {} : { signal }) }),
    r => (r.sources[last.peerId.toString()] ?? 0) > 0
      ? `read from ${last.config.name}'s own copy, the master judging, auditing and keying the request as ever (${r.bytes} bytes)`
      : `served from the master's image cache (${r.bytes} bytes)`, print)
  // Features are computed in the background at ingest, once a hospital has been quiet for a moment
  // (never while it serves images); wait until every site has indexed its series.
  await timed(steps, 'features', async () => {
    await Promise.all(nodes.map(async n => { await n.similarity.indexer.idle() }))
    return nodes.reduce((sum, n) => sum + n.similarity.index.size, 0)
  }, n => `${n} series indexed in the background (histogram + 32³ thumbnail each)`, print)
  await timed(steps, 'similar', async () => {
    return await client.similar(record.lfn, { measure: 'cr', topK: 5, ...(signal === undefined ? {} : { signal }) })
  }, r => {
    const names = new Map(nodes.map(n => [n.peerId.toString(), n.config.name]))
    return `${r.results.length} most similar CTs by correlation ratio, ranked at each hospital: ${r.results.map(h => `${h.score.toFixed(3)} (${names.get(h.site) ?? h.site})`).join(', ')}`
  }, print)
  return steps
}
