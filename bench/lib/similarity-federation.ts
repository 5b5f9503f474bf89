/**
 * The federated part of the similarity bench: N real hospital nodes on
 * loopback, each in its own process (hospital 1 in the bench's process, the
 * others children running bench/lib/similarity-site.ts), as six hospitals'
 * servers would be. Each fills its own feature index with its share of the
 * synthesized series (series i goes to site i mod N; no DICOM ingest). A
 * doctor holds a `similarity` + `meta/read` certificate from every site.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { Dm2Client } from '../../src/api/index.js'
import { IDENTITY_FILE_NAME } from '../../src/config/defaults.js'
import { loadConfig } from '../../src/config/load.js'
import { createHospitalNode, loadOrCreateIdentity, type HospitalNode } from '../../src/node/index.js'
import { generateSigner, issueCertificate, signerFromSeed, type Certificate } from '../../src/sac/index.js'
import type { Features } from '../../src/similarity/index.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SITE = fileURLToPath(new URL('./similarity-site.ts', import.meta.url))

/** What a child site is told (argv[2], JSON). */
export interface SiteInit {
  root: string
  index: number
  sites: number
  count: number
  members: string[]
  bootstrap: string[]
}

export interface BenchFederation {
  /** Hospital 1, in this process. */
  node: HospitalNode
  /** The doctor's client at hospital 1. */
  client: Dm2Client
  /** The doctor's certificate from each site, in site order. */
  certificates: Certificate[]
  /** Series in each site's index. */
  sizes: number[]
  /** Dials every site again (after this process's event loop was busy long enough for connections to drop). */
  connect: () => Promise<void>
  stop: () => Promise<void>
}

export function siteDir (root: string, index: number): string {
  return join(root, `hospital-${index + 1}`)
}

/** A hospital node on 127.0.0.1 (free ports) for the bench, its similarity index left to the caller. */
export async function benchNode (init: SiteInit): Promise<HospitalNode> {
  const dir = siteDir(init.root, init.index)
  const o = (path: string[], value: unknown): { path: string[], value: unknown, source: string } => ({ path, value, source: 'similarity bench' })
  const config = await loadConfig({
    env: {},
    cwd: dir,
    overrides: [
      o(['name'], `hospital-${init.index + 1}`), o(['dataDir'], dir), o(['listen'], ['/ip4/127.0.0.1/tcp/0']),
      o(['members'], init.members), o(['bootstrap'], init.bootstrap), o(['dicom', 'port'], 0)
    ]
  })
  const node = createHospitalNode(config, { similarity: { background: false } })
  await node.start()
  return node
}

/** Puts this site's share of the series (i ≡ index mod sites) into its index. */
export async function fillSite (node: HospitalNode, init: Pick<SiteInit, 'index' | 'sites' | 'count'>, make: (i: number) => Features): Promise<number> {
  for (let i = init.index; i < init.count; i += init.sites) {
    await node.similarity.index.put({ lfn: `bench-${i}`, version: 1, modality: 'CT', bodyPart: 'CHEST', date: '20230115' }, make(i), { sync: false })
  }
  return node.similarity.index.size
}

interface Ready { size: number, addresses: string[] }

function startChild (init: SiteInit): { child: ChildProcess, ready: Promise<Ready> } {
  const child = spawn(process.execPath, ['--import', 'tsx', SITE, JSON.stringify(init)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ready = new Promise<Ready>((resolve, reject) => {
    child.on('message', (m: { type: string, size?: number, addresses?: string[], message?: string }) => {
      if (m.type === 'ready') resolve({ size: m.size ?? 0, addresses: m.addresses ?? [] })
      else if (m.type === 'failed') reject(new Error(`site ${init.index + 1}: ${m.message ?? ''}`))
    })
    child.on('exit', code => { reject(new Error(`site ${init.index + 1} exited (${String(code)})`)) })
  })
  return { child, ready }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  if (child.connected) child.send({ type: 'stop' })
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/**
 * Starts hospital 1 here and the others as children, each filling its index
 * (hospital 1 with `make`, the children with the same deterministic data).
 */
export async function startBenchFederation (root: string, sites: number, count: number, make: (i: number) => Features): Promise<BenchFederation> {
  const identities = []
  for (let i = 0; i < sites; i++) {
    await mkdir(siteDir(root, i), { recursive: true, mode: 0o700 })
    identities.push(await loadOrCreateIdentity(join(siteDir(root, i), IDENTITY_FILE_NAME)))
  }
  const members = identities.map(id => id.peerId.toString())
  const node = await benchNode({ root, index: 0, sites, count, members, bootstrap: [] })
  const children: ChildProcess[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(stopChild))
    await node.stop()
  }
  try {
    const bootstrap = [node.getMultiaddrs()[0]?.toString() ?? '']
    const started = Array.from({ length: sites - 1 }, (_, k) => startChild({ root, index: k + 1, sites, count, members, bootstrap }))
    children.push(...started.map(s => s.child))
    const own = await fillSite(node, { index: 0, sites, count }, make)
    const ready = await Promise.all(started.map(async s => await s.ready))
    const sizes = [own, ...ready.map(r => r.size)]
    const connect = async (): Promise<void> => {
      await Promise.all(ready.map(async r => {
        const addr = r.addresses[0]
        if (addr !== undefined) await node.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) })
      }))
    }
    const doctor = generateSigner()
    const s = Math.floor(Date.now() / 1000)
    const certificates = identities.map(id => issueCertificate({
      audience: doctor.publicKey, resource: { selector: { modality: ['CT'] } }, abilities: ['similarity', 'meta/read'], notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT'
    }, signerFromSeed(id.privateKey.raw.subarray(0, 32))))
    const client = new Dm2Client(node, { signer: doctor, certificates: certificates.map(c => c.bytes) })
    return { node, client, certificates, sizes, connect, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
