/**
 * A federation of N hospital nodes on 127.0.0.1 in one process, each with its
 * own data directory, identity and free port: the README's main job, the
 * simulator's base and the integration tests' fixture. Hospital 1 is the
 * bootstrap peer of the others; everyone is a member. Returns once every
 * node's DHT routing table holds every other node (or after 30 s; callers
 * that must know check `waitForRoutingTables` themselves): a node that has
 * only met the bootstrap peer cannot reach the others yet.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import { IDENTITY_FILE_NAME } from '../config/defaults.js'
import { loadConfig, type ConfigOverride } from '../config/load.js'
import { waitForRoutingTables } from './discovery.js'
import { createHospitalNode, type HospitalNode, type HospitalNodeOptions } from './hospital-node.js'
import { loadOrCreateIdentity } from './identity.js'

export interface LocalFederationInit {
  /** Root folder; hospital i lives in `<root>/hospital-<i>`. */
  root: string
  hospitals: number
  /** Per-node options, e.g. a logger. */
  nodeOptions?: (index: number, name: string) => HospitalNodeOptions
  /** Per-node config overrides, e.g. the hospital's PACS. */
  configOverrides?: (index: number, name: string) => ConfigOverride[]
  /**
   * Peer IDs of further members run elsewhere (e.g. a hospital in its own
   * process, started with `localNodeOverrides` and this federation's first
   * address as bootstrap).
   */
  extraMembers?: string[]
  signal?: AbortSignal
}

export interface LocalFederation {
  nodes: HospitalNode[]
  stop: () => Promise<void>
}

/** The name of the i-th local hospital (0-based), e.g. `hospital-a`. */
export function localHospitalName (index: number): string {
  return `hospital-${index < 26 ? String.fromCharCode(97 + index) : String(index + 1)}`
}

/** The config of one local hospital: its name and folder, a free port on 127.0.0.1, the members, its bootstrap peers. */
export function localNodeOverrides (init: { name: string, dir: string, members: string[], bootstrap: string[] }): ConfigOverride[] {
  const o = (path: string[], value: unknown): ConfigOverride => ({ path, value, source: `local federation (${init.name})` })
  return [
    o(['name'], init.name), o(['dataDir'], init.dir), o(['listen'], ['/ip4/127.0.0.1/tcp/0']),
    o(['members'], init.members), o(['bootstrap'], init.bootstrap), o(['dicom', 'port'], 0)
  ]
}

/** Starts the federation; on failure or abort every node already started is stopped. */
export async function startLocalFederation (init: LocalFederationInit): Promise<LocalFederation> {
  const names = Array.from({ length: init.hospitals }, (_, i) => localHospitalName(i))
  const dirs = names.map(name => join(init.root, name))
  const peerIds: PeerId[] = []
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    peerIds.push((await loadOrCreateIdentity(join(dir, IDENTITY_FILE_NAME))).peerId)
  }
  const members = [...peerIds.map(p => p.toString()), ...(init.extraMembers ?? [])]
  const nodes: HospitalNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
  }
  try {
    let bootstrap: string[] = []
    for (const [i, name] of names.entries()) {
      init.signal?.throwIfAborted()
      const dir = dirs[i] as string
      const config = await loadConfig({
        env: {},
        cwd: dir,
        overrides: [...localNodeOverrides({ name, dir, members, bootstrap }), ...(init.configOverrides?.(i, name) ?? [])]
      })
      const node = createHospitalNode(config, init.nodeOptions?.(i, name))
      nodes.push(node)
      await node.start()
      if (i === 0) bootstrap = [node.getMultiaddrs()[0]?.toString() ?? '']
    }
    await waitForRoutingTables(nodes, init.signal === undefined ? {} : { signal: init.signal })
    return { nodes, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
