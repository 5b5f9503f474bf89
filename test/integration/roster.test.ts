/** A federation admitted by a signed roster instead of a member list. */
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { createHospitalNode, loadOrCreateIdentity, type HospitalNode } from '../../src/node/index.js'
import { createRoster, formatRosterFile, generateSigner, signRoster, withSite } from '../../src/sac/index.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

describe('roster admission', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const nodes: HospitalNode[] = []
  const authority = generateSigner()
  const other = generateSigner()

  beforeAll(async () => { dir = await tempDir() })
  afterAll(async () => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
    await dir.remove()
  })

  async function node (name: string, roster: string, trustKey = authority.publicKey): Promise<HospitalNode> {
    const n = createHospitalNode(await loadConfig({
      env: {},
      overrides: [
        { path: ['name'], value: name, source: 'test' },
        { path: ['dataDir'], value: join(dir.path, name), source: 'test' },
        { path: ['listen'], value: ['/ip4/127.0.0.1/tcp/0'], source: 'test' },
        { path: ['dicom', 'port'], value: 0, source: 'test' },
        { path: ['roster'], value: roster, source: 'test' },
        { path: ['federationAuthorities'], value: { keys: [Buffer.from(trustKey).toString('hex')], threshold: 1 }, source: 'test' }
      ]
    }))
    nodes.push(n)
    return n
  }

  it('admits the roster\'s sites and refuses others; a roster from another authority is refused before anything is created', async () => {
    const ids = await Promise.all(['a', 'b', 'c'].map(async n => (await loadOrCreateIdentity(join(dir.path, n, 'identity.key'))).peerId.toString()))
    const s = Math.floor(Date.now() / 1000)
    let payload = createRoster({ federation: 'test-federation', authorities: [authority.publicKey], threshold: 1 })
    for (const [i, peerId] of ids.slice(0, 2).entries()) {
      payload = withSite(payload, { peerId, name: `site-${i}`, roles: ['trusted'], notBefore: s - 60, expiry: s + 3600 })
    }
    const rosterFile = join(dir.path, 'roster.json')
    await writeFile(rosterFile, formatRosterFile(payload, [signRoster(payload, authority)]))
    const [a, b, c] = [await node('a', rosterFile), await node('b', rosterFile), await node('c', rosterFile)]
    await Promise.all([a.start(), b.start(), c.start()])
    await b.libp2p.dial(a.getMultiaddrs())
    await waitFor(() => a.libp2p.getConnections(b.peerId).length > 0, 5000, 'a and b to connect')
    await c.libp2p.dial(a.getMultiaddrs()).catch(() => undefined)
    await waitFor(() => a.admission.refusedInbound > 0, 5000, 'a to refuse c')
    expect(a.libp2p.getConnections(c.peerId)).toHaveLength(0)

    const untrusted = await node('d', rosterFile, other.publicKey)
    await expect(untrusted.start()).rejects.toMatchObject({ name: 'RosterError' })
    expect(untrusted.status).toBe('stopped')
    await expect(stat(join(dir.path, 'd'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
