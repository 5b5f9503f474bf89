/**
 * A simulated federation on 127.0.0.1: the requesting site (a hospital node in
 * this process, where the clinician works) and N hospitals, each a node and a
 * PACS (by default each in a process of its own: one process cannot use both
 * cores), behind shaping proxies that model every site's access link. It has
 * what a real federation has: a roster signed by a federation authority
 * (every site `trusted` and `storage`), each site's own key, and
 * certificates issued by each master site to the clinician.
 */
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Wallet, type UserIdentity } from '../../src/api/wallet.js'
import { IDENTITY_FILE_NAME } from '../../src/config/defaults.js'
import { loadConfig, type ConfigOverride } from '../../src/config/load.js'
import { hospitalLogger } from '../../src/log/index.js'
import { routingTableSize } from '../../src/node/discovery.js'
import { createHospitalNode, loadOrCreateIdentity, type HospitalNode, type Identity } from '../../src/node/index.js'
import { localHospitalName } from '../../src/node/local-federation.js'
import {
  createRoster, formatRosterFile, issueCertificate, signerFromSeed, signRoster, withSite, type Ability, type SeededSigner
} from '../../src/sac/index.js'
import { startOrthanc, type RunningOrthanc } from '../../test/dicom/helpers/orthanc.js'
import { freePort } from '../../test/helpers/free-port.js'
import {
  CERTIFICATE_LIFETIME_S, NODE_AE_PREFIX, PACS_AE_PREFIX, REQUESTER_SITE, ROUTING_TIMEOUT_MS
} from './constants.js'
import { FederationNotReadyError } from './errors.js'
import { SimNetwork, type Network } from './network.js'
import { remoteNetwork, type NetworkCommands } from './network-site.js'
import { startLocalSite, startProcessSite, type SiteHandle } from './processes.js'
import type { SiteInit } from './hospital-site.js'
import type { PacsCommands } from './pacs-site.js'
import { bindProcessTo, unbindProcess } from './source-address.js'
import { siteAddress, type AccessLink } from './topology.js'

export interface SimFederationInit {
  /** This run's folder (node data, logs). */
  root: string
  hospitals: number
  seed: number
  requesterLink: AccessLink
  hospitalLink: (index: number) => AccessLink
  /** Our DICOM edge as PACS (default) or a real Orthanc per hospital. */
  pacs?: 'edge' | 'orthanc'
  /** Where the PACS archives live; kept between federations of one scenario. Default `<root>/pacs`. */
  pacsRoot?: string
  /** All hospitals in this process instead of one process each. */
  inProcess?: boolean
  replicationFactor?: number
  replication?: { graceMs?: number, reconcileMs?: number }
  log?: (line: string) => void
}

export interface Hospital {
  index: number
  name: string
  site: number
  peerId: string
  signer: SeededSigner
  init: SiteInit
  /** The hospital node. */
  handle: SiteHandle
  /** Its PACS: our edge in a process of its own, or a real Orthanc. */
  pacs?: SiteHandle<PacsCommands>
  orthanc?: RunningOrthanc
}

const seedKey = (seed: number, label: string): Uint8Array => new Uint8Array(createHash('sha256').update(`dm2-sim/${seed}/${label}`).digest())

export class SimFederation {
  readonly init: SimFederationInit
  /** The shaping proxies: in a process of their own, or here with `inProcess`. Set by `start()`. */
  network: Network
  private networkHandle?: SiteHandle<NetworkCommands>
  readonly hospitals: Hospital[] = []
  /** The federation authority that signs the roster. */
  readonly authority: SeededSigner
  /** The clinician at the requesting site. */
  readonly clinician: SeededSigner
  private _requester?: HospitalNode
  private stopped = false

  private constructor (init: SimFederationInit) {
    this.init = init
    this.network = new SimNetwork(init.seed)
    this.authority = signerFromSeed(seedKey(init.seed, 'authority'))
    this.clinician = signerFromSeed(seedKey(init.seed, 'clinician'))
  }

  get requester (): HospitalNode {
    if (this._requester === undefined) throw new FederationNotReadyError('no requester')
    return this._requester
  }

  /** Starts everything; on failure stops whatever started. */
  static async start (init: SimFederationInit): Promise<SimFederation> {
    const fed = new SimFederation(init)
    try {
      await fed.run()
    } catch (err) {
      await fed.stop()
      throw err
    }
    return fed
  }

  private log (line: string): void { this.init.log?.(line) }

  private async run (): Promise<void> {
    const { init } = this
    const root = init.root
    const pacsRoot = init.pacsRoot ?? join(root, 'pacs')
    await mkdir(join(root, 'logs'), { recursive: true })
    const names = ['requesting-site', ...Array.from({ length: init.hospitals }, (_, i) => localHospitalName(i))]
    const dirs = names.map(n => join(root, n))
    const identities: Identity[] = []
    for (const dir of dirs) {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      identities.push(await loadOrCreateIdentity(join(dir, IDENTITY_FILE_NAME)))
    }
    // The roster a federation authority signs: every site trusted and storage.
    const now = Math.floor(Date.now() / 1000)
    let roster = createRoster({ federation: `dm2-sim-${init.seed}`, authorities: [this.authority.publicKey], threshold: 1 })
    for (const [i, id] of identities.entries()) {
      roster = withSite(roster, { peerId: id.peerId.toString(), name: names[i] as string, roles: ['storage', 'trusted'], notBefore: now - 60, expiry: now + 24 * 3600 })
    }
    const rosterFile = join(root, 'roster.json')
    await writeFile(rosterFile, formatRosterFile(roster, [signRoster(roster, this.authority)]))
    const authorityKeys = [Buffer.from(this.authority.publicKey).toString('hex')]

    // The network: one proxy per site in front of its real port, in a process of its own
    // (so that shaping keeps time however busy the requesting site's event loop is).
    if (init.inProcess !== true) {
      const handle = await startProcessSite<NetworkCommands>({ kind: 'network', init: { name: 'network', seed: init.seed } }, '127.0.0.1', join(root, 'logs', 'network.log'))
      this.networkHandle = handle
      this.network = remoteNetwork(handle)
    }
    const listenPorts = await Promise.all(names.map(async () => await freePort()))
    const proxyPorts: number[] = []
    for (const [i, port] of listenPorts.entries()) {
      const link = i === REQUESTER_SITE ? init.requesterLink : init.hospitalLink(i - 1)
      proxyPorts.push(await this.network.addSite(i, link, { host: '127.0.0.1', port }))
    }
    const requesterId = identities[0]?.peerId.toString() as string
    const bootstrap = [`/ip4/127.0.0.1/tcp/${proxyPorts[0] as number}/p2p/${requesterId}`]

    // The requesting site, here: its connections leave from its own address.
    bindProcessTo(siteAddress(REQUESTER_SITE))
    const o = (path: string[], value: unknown): ConfigOverride => ({ path, value, source: 'simulator' })
    const config = await loadConfig({
      env: {},
      cwd: dirs[0],
      overrides: [
        o(['name'], names[0]), o(['dataDir'], dirs[0]),
        o(['listen'], [`/ip4/127.0.0.1/tcp/${listenPorts[0] as number}`]),
        o(['announce'], [`/ip4/127.0.0.1/tcp/${proxyPorts[0] as number}`]),
        o(['roster'], rosterFile), o(['federationAuthorities'], { keys: authorityKeys, threshold: 1 }),
        o(['dicom', 'port'], 0), o(['replicationFactor'], init.replicationFactor ?? 0)
      ]
    })
    this._requester = createHospitalNode(config, {
      logger: hospitalLogger(names[0] as string),
      ...(init.replication === undefined ? {} : { replication: init.replication })
    })
    await this._requester.start()

    const starts = Array.from({ length: init.hospitals }, async (_, index) => {
      const site = index + 1
      const name = names[site] as string
      let orthanc: RunningOrthanc | undefined
      let pacsHandle: SiteHandle<PacsCommands> | undefined
      let pacs: SiteInit['pacs']
      const aeTitle = `${PACS_AE_PREFIX}_${index + 1}`
      if (init.pacs === 'orthanc') {
        orthanc = await startOrthanc({ dir: join(pacsRoot, `orthanc-${index + 1}`), aeTitle })
        pacs = { aeTitle, host: '127.0.0.1', port: orthanc.dicomPort }
      } else {
        const port = await freePort()
        const worker = { kind: 'pacs' as const, init: { name: `${name}-pacs`, dir: join(pacsRoot, `pacs-${index + 1}`), aeTitle, port } }
        pacsHandle = init.inProcess === true
          ? await startLocalSite<PacsCommands>(worker, siteAddress(site))
          : await startProcessSite<PacsCommands>(worker, siteAddress(site), join(root, 'logs', `${name}-pacs.log`))
        pacs = { aeTitle, host: '127.0.0.1', port }
      }
      const siteInit: SiteInit = {
        name,
        dataDir: dirs[site] as string,
        listenPort: listenPorts[site] as number,
        announcePort: proxyPorts[site] as number,
        bootstrap,
        rosterFile,
        authorityKeys,
        pacs,
        nodeAeTitle: `${NODE_AE_PREFIX}_${index + 1}`,
        replicationFactor: init.replicationFactor ?? 0,
        ...(init.replication === undefined ? {} : { replication: init.replication })
      }
      const identity = identities[site] as Identity
      const hospital: Hospital = {
        index,
        name,
        site,
        peerId: identity.peerId.toString(),
        signer: signerFromSeed(identity.privateKey.raw.subarray(0, 32)),
        init: siteInit,
        handle: undefined as unknown as SiteHandle,
        ...(orthanc === undefined ? {} : { orthanc }),
        ...(pacsHandle === undefined ? {} : { pacs: pacsHandle })
      }
      this.hospitals[index] = hospital
      hospital.handle = await this.startSite(hospital)
    })
    const results = await Promise.allSettled(starts)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    this.log(`${init.hospitals} hospital(s) up (${init.inProcess === true ? 'all in this process' : init.pacs === 'orthanc' ? 'a node process and an Orthanc each' : 'a node and a PACS process each'})`)
    await this.waitForRouting()
  }

  private async startSite (h: Hospital): Promise<SiteHandle> {
    const address = siteAddress(h.site)
    const worker = { kind: 'hospital' as const, init: h.init }
    return this.init.inProcess === true
      ? await startLocalSite(worker, address)
      : await startProcessSite(worker, address, join(this.init.root, 'logs', `${h.name}.log`))
  }

  /** Starts a hospital again after a crash or stop, with its data directory as it was left. */
  async restart (index: number): Promise<void> {
    const h = this.hospitals[index]
    if (h === undefined) throw new RangeError(`no hospital ${index}`)
    if (h.handle.alive) await h.handle.stop()
    h.handle = await this.startSite(h)
  }

  /** Waits until every routing table holds every other site (up to 20). */
  async waitForRouting (timeoutMs = ROUTING_TIMEOUT_MS): Promise<void> {
    const want = Math.min(this.hospitals.length, 20)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const sizes = [routingTableSize(this.requester), ...await Promise.all(this.hospitals.filter(h => h.handle.alive).map(async h => (await h.handle.call('status')).routingTable))]
      if (sizes.every(s => s >= want)) return
      if (Date.now() > deadline) throw new FederationNotReadyError(`routing tables ${sizes.join(', ')} of ${want} after ${timeoutMs} ms`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }

  /**
   * The clinician's certificates: one per hospital (by index), issued by that
   * master site, for its CT series.
   */
  user (options: { hospitals?: number[], abilities?: Ability[], expiryS?: number, notBeforeS?: number } = {}): UserIdentity {
    const now = Math.floor(Date.now() / 1000)
    const which = options.hospitals ?? this.hospitals.map(h => h.index)
    const certificates = which.map(i => issueCertificate({
      audience: this.clinician.publicKey,
      resource: { selector: { modality: ['CT'] } },
      abilities: options.abilities ?? ['image/read', 'meta/read', 'query'],
      notBefore: options.notBeforeS ?? now - 60,
      expiry: options.expiryS ?? now + CERTIFICATE_LIFETIME_S,
      purpose: 'TREAT'
    }, (this.hospitals[i] as Hospital).signer).bytes)
    return { signer: this.clinician, certificates }
  }

  wallet (options: Parameters<SimFederation['user']>[0] = {}): Wallet {
    return new Wallet(this.user(options))
  }

  /** CPU time and memory of every process (this one included). */
  async usage (): Promise<Array<{ name: string, cpuMs: number, rss: number }>> {
    const cpu = process.cpuUsage()
    const here = { name: this.init.inProcess === true ? 'everything' : 'requesting-site', cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss }
    if (this.init.inProcess === true) return [here]
    type Status = { cpuUserMs: number, cpuSystemMs: number, rss: number }
    const statuses: Array<{ name: string, status: Promise<Status> }> = []
    if (this.networkHandle?.alive === true) statuses.push({ name: 'network', status: this.networkHandle.call('status') })
    for (const h of this.hospitals) {
      if (h.handle.alive) statuses.push({ name: h.handle.name, status: h.handle.call('status') })
      if (h.pacs?.alive === true) statuses.push({ name: h.pacs.name, status: h.pacs.call('status') })
    }
    const others = await Promise.all(statuses.map(async ({ name, status }) => {
      const st = await status
      return { name, cpuMs: st.cpuUserMs + st.cpuSystemMs, rss: st.rss }
    }))
    return [here, ...others]
  }

  /** Stops every hospital, the requester, the proxies and any Orthanc; safe to call twice. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.allSettled(this.hospitals.filter(h => h !== undefined).map(async h => {
      await h.handle?.stop().catch(async () => { await h.handle.kill() })
      await h.pacs?.stop().catch(async () => { await h.pacs?.kill() })
      await h.orthanc?.stop()
    }))
    await this._requester?.stop().catch(() => {})
    await this.network.stop()
    unbindProcess()
  }
}
