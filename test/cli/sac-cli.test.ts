/**
 * `dm2 keys`, `dm2 sac`, `dm2 federation create|add-site|sign` and `dm2 audit`
 * run as real commands through a fresh commander program (the register
 * functions), on real files, and the audit commands through a real control
 * socket.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Command } from 'commander'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AuditLog } from '../../src/audit/index.js'
import { auditControlHandlers } from '../../src/audit/index.js'
import { registerAudit } from '../../src/cli/audit.js'
import { registerKeys } from '../../src/cli/keys.js'
import { registerRoster } from '../../src/cli/roster.js'
import { registerSac } from '../../src/cli/sac.js'
import { revocationControlHandlers } from '../../src/protocols/revocations/index.js'
import { CONTROL_SOCKET_NAME } from '../../src/config/defaults.js'
import { ControlServer } from '../../src/control/index.js'
import { loadKeyFile, openRosterFile, rosterMembers, verifySignature } from '../../src/sac/index.js'
import { tempDir } from '../helpers/tmp.js'

let dir: Awaited<ReturnType<typeof tempDir>>
let keyDir: string
const path = (name: string): string => join(dir.path, name)

/** Runs one dm2 command line in a fresh program; returns what it printed, or throws what it threw. */
async function dm2 (...args: string[]): Promise<string> {
  const program = new Command('dm2').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerKeys(program)
  registerSac(program)
  registerAudit(program)
  registerRoster(program.command('federation'))
  const out: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => { out.push(parts.join(' ')) })
  const err = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    await program.parseAsync(args, { from: 'user' })
  } finally {
    log.mockRestore()
    err.mockRestore()
  }
  return out.join('\n')
}

function rosterRefusal (text: string): string {
  try {
    openRosterFile(text)
  } catch (err) {
    return (err as { reason: string }).reason
  }
  return 'ACCEPTED'
}

async function failure (...args: string[]): Promise<string> {
  try {
    await dm2(...args)
  } catch (err) {
    return (err as Error).message
  }
  return 'OK'
}

beforeAll(async () => {
  dir = await tempDir()
  keyDir = path('keys')
})
afterAll(async () => { await dir.remove() })

describe('dm2 keys', () => {
  it('creates several private key files and lists their public halves', async () => {
    for (const label of ['patient', 'doctor', 'resident', 'doctor-research']) {
      expect(await dm2('keys', 'new', '--label', label, '--dir', keyDir)).toMatch(new RegExp(`label:\\s+${label}\\npublic key:\\s+[0-9a-f]{64}`))
    }
    expect((await stat(join(keyDir, 'patient.json'))).mode & 0o777).toBe(0o600)
    const listed = JSON.parse(await dm2('keys', 'list', '--dir', keyDir, '--json')) as Array<{ label: string, publicKey: string }>
    expect(listed.map(k => k.label)).toEqual(['doctor', 'doctor-research', 'patient', 'resident'])
    const seed = (JSON.parse(await readFile(join(keyDir, 'doctor.json'), 'utf8')) as { seed: string }).seed
    expect(await dm2('keys', 'list', '--dir', keyDir)).not.toContain(seed)
    expect(await failure('keys', 'new', '--label', 'doctor', '--dir', keyDir)).toMatch(/already exists/)
  })
})

describe('dm2 sac', () => {
  it('issues a root, delegates, inspects, verifies and revokes', async () => {
    const issued = await dm2('sac', 'issue', '--dir', keyDir, '--key', 'patient', '--audience', 'doctor', '--modality', 'CT', '--body-part', 'CHEST',
      '--ability', 'image/read', '--ability', 'delegate', '--depth', '1', '--expiry', '30d', '--purpose', 'TREAT', '--out', path('root.json'))
    const rootId = /certificate ([0-9a-f]{64})/.exec(issued)?.[1]
    expect(rootId).toBeDefined()
    const delegated = await dm2('sac', 'delegate', path('root.json'), '--dir', keyDir, '--key', 'doctor', '--audience', 'resident',
      '--ability', 'image/read', '--expiry', '7d', '--out', path('child.json'))
    expect(delegated).toContain('(2 links)')
    const childId = /certificate ([0-9a-f]{64})/.exec(delegated)?.[1]

    const inspected = JSON.parse(await dm2('sac', 'inspect', path('child.json'))) as { chain: Array<Record<string, unknown>> }
    const patient = await loadKeyFile(join(keyDir, 'patient.json'))
    const resident = await loadKeyFile(join(keyDir, 'resident.json'))
    expect(inspected.chain.map(c => c.id)).toEqual([rootId, childId])
    expect(inspected.chain[0]).toMatchObject({ issuer: patient.publicKey, subject: patient.publicKey, abilities: ['delegate', 'image/read'], depth: 1, resource: { selector: { modality: ['CT'], bodyPart: ['CHEST'] } } })
    expect(inspected.chain[1]).toMatchObject({ audience: { key: resident.publicKey }, abilities: ['image/read'], depth: 0, parents: [rootId] })
    expect(JSON.stringify(inspected)).not.toContain(Buffer.from(resident.signer.seed).toString('base64'))

    expect(await dm2('sac', 'verify', path('child.json'), '--dir', keyDir, '--holder', 'resident')).toMatch(/^valid: 2 link\(s\)/)
    expect(await failure('sac', 'verify', path('child.json'), '--dir', keyDir, '--holder', 'doctor')).toMatch(/WRONG_AUDIENCE at link 1/)
    // Widening is refused at delegation time.
    expect(await failure('sac', 'delegate', path('root.json'), '--dir', keyDir, '--key', 'doctor', '--audience', 'resident', '--modality', 'MR', '--out', path('x.json'))).toMatch(/wider/)
    expect(await failure('sac', 'delegate', path('root.json'), '--dir', keyDir, '--key', 'resident', '--audience', 'resident', '--out', path('x.json'))).toMatch(/audience/)

    expect(await failure('sac', 'revoke', path('child.json'), '--dir', keyDir, '--key', 'resident', '--out', path('bad.json'))).toMatch(/NOT_ISSUER/)
    const revoked = await dm2('sac', 'revoke', path('child.json'), '--dir', keyDir, '--key', 'doctor', '--reason', 'privilege-withdrawn', '--out', path('revocation.json'))
    expect(revoked).toContain(`revoked ${childId ?? ''} (privilege-withdrawn)`)
    expect(JSON.parse(await dm2('sac', 'inspect', path('revocation.json')))).toMatchObject({ revocation: { target: childId, reason: 'privilege-withdrawn' } })
    expect(await failure('sac', 'verify', path('child.json'), '--dir', keyDir, '--revocations', path('revocation.json'))).toMatch(/REVOKED at link 1/)
    // The doctor's own grant still verifies.
    expect(await dm2('sac', 'verify', path('root.json'), '--dir', keyDir, '--revocations', path('revocation.json'))).toMatch(/^valid: 1 link/)
  })

  it('refuses a tampered chain file', async () => {
    const file = JSON.parse(await readFile(path('child.json'), 'utf8')) as { chain: string[] }
    const bytes = Buffer.from(file.chain[1] as string, 'base64')
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 1
    await writeFile(path('tampered.json'), JSON.stringify({ ...file, chain: [file.chain[0], bytes.toString('base64')] }))
    expect(await failure('sac', 'verify', path('tampered.json'))).toMatch(/invalid chain: BAD_SIGNATURE at link 1/)
  })
})

describe('dm2 federation create|add-site|sign', () => {
  it('builds a 2-of-3 roster in which a site is a member', async () => {
    const site = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const storage = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const roster = path('roster.json')
    const created = await dm2('federation', 'create', roster, '--name', 'Test Federation', '--dir', keyDir,
      '--new-key', 'auth1', '--new-key', 'auth2', '--new-key', 'auth3', '--threshold', '2')
    expect(created).toContain('2 of 3 authorities must sign')
    expect(await failure('federation', 'create', roster, '--name', 'Again', '--dir', keyDir)).toMatch(/already exists/)
    await dm2('federation', 'add-site', roster, '--peer', site.toString(), '--name', 'Hospital A', '--role', 'trusted', '--role', 'storage', '--expiry', '365d')
    await dm2('federation', 'add-site', roster, '--peer', storage.toString(), '--name', 'Cloud B', '--role', 'storage', '--expiry', '365d')
    expect(await failure('federation', 'add-site', roster, '--peer', 'nonsense', '--name', 'X', '--expiry', '1d')).toMatch(/peerId/)
    expect(await dm2('federation', 'sign', roster, '--dir', keyDir, '--key', 'auth1')).toMatch(/1 signature\(s\), 2 of 3 authorities needed; not valid yet/)
    expect(rosterRefusal(await readFile(roster, 'utf8'))).toBe('THRESHOLD')
    expect(await failure('federation', 'sign', roster, '--dir', keyDir, '--key', 'doctor')).toMatch(/UNKNOWN_SIGNER/)
    expect(await dm2('federation', 'sign', roster, '--dir', keyDir, '--key', 'auth3')).toMatch(/2 signature\(s\).*threshold met/)

    const verified = openRosterFile(await readFile(roster, 'utf8'))
    expect(verified.signers).toHaveLength(2)
    const members = rosterMembers(verified, Date.now())
    expect(members.isMember(site)).toBe(true)
    expect(members.isTrusted(site)).toBe(true)
    expect(members.isTrusted(storage)).toBe(false)
    expect(members.storageSites().sort()).toEqual([site.toString(), storage.toString()].sort())
    expect(members.isMember(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))).toBe(false)
    const shown = JSON.parse(await dm2('federation', 'show', roster, '--json')) as { version: number, threshold: number, signatures: number }
    expect(shown).toMatchObject({ version: 1, threshold: 2, signatures: 2 })

    // Changing a signed roster makes the next version, to be signed again.
    expect(await dm2('federation', 'add-site', roster, '--peer', storage.toString(), '--name', 'Cloud B', '--expiry', '30d')).toContain('version 2 (signatures dropped')
    expect(rosterRefusal(await readFile(roster, 'utf8'))).toBe('THRESHOLD')
  })
})

describe('dm2 audit list|verify and sac revoke --push, through the control channel', () => {
  it('lists and verifies a running node\'s audit log, and detects an altered entry', async () => {
    const home = path('node')
    await dm2('keys', 'new', '--label', 'node', '--dir', home)
    const nodeKey = await loadKeyFile(join(home, 'node.json'))
    await writeFile(join(home, 'dm2.json'), JSON.stringify({ name: 'Hospital A', dataDir: '.' }))
    const db = new Level<string, Uint8Array>(join(home, 'db'), { valueEncoding: 'view' })
    const store = db.sublevel<string, Uint8Array>('audit', { valueEncoding: 'view' })
    const audit = new AuditLog({
      store,
      signer: { sign: m => nodeKey.signer.sign(m), verify: (m, s) => verifySignature(s, m, nodeKey.signer.publicKey) }
    })
    for (let i = 0; i < 5; i++) {
      await audit.append({ decision: i === 2 ? 'deny' : 'allow', reason: i === 2 ? 'REVOKED' : 'OK', command: 'image/get', resource: `lfn-${i}`, chain: ['a'.repeat(64)], remotePeer: '12D3KooWPeer' })
    }
    const published: Uint8Array[] = []
    const server = new ControlServer({
      socketPath: join(home, CONTROL_SOCKET_NAME),
      handlers: {
        ...auditControlHandlers(audit),
        ...revocationControlHandlers({ publish: async n => { published.push(n); return { fresh: true, peers: 3, delivered: 3 } } }, { list: async () => [] })
      },
      log: Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => { throw new Error('unused') } })
    })
    await server.start()
    try {
      const config = join(home, 'dm2.json')
      const lines = (await dm2('audit', 'list', '--config', config, '--json', '--from', '2', '--limit', '3')).split('\n').map(l => JSON.parse(l) as { seq: number, decision: string })
      expect(lines.map(l => [l.seq, l.decision])).toEqual([[2, 'allow'], [3, 'deny'], [4, 'allow']])
      expect(await dm2('audit', 'list', '--config', config)).toMatch(/\n\s+3 .* deny\s+REVOKED/)
      expect(await dm2('audit', 'verify', '--config', config)).toMatch(/5 entries[\s\S]*ok: the chain is intact/)

      // Someone with access to the database edits entry 3 in place.
      const key = 'e:' + '3'.padStart(16, '0')
      const { decodeCbor, encodeCbor } = await import('../../src/codec/cbor.js')
      const stored = decodeCbor(await store.get(key) as Uint8Array, 65536) as { entry: Record<string, unknown>, hash: string }
      await store.put(key, encodeCbor({ ...stored, entry: { ...stored.entry, decision: 'allow', reason: 'OK' } }))
      expect(await failure('audit', 'verify', '--config', config)).toMatch(/does not verify: 1 problem/)

      // dm2 sac revoke --push hands the notice to the node.
      expect(await dm2('sac', 'revoke', path('child.json'), '--dir', keyDir, '--key', 'patient', '--out', path('rev2.json'), '--push', '--config', config)).toContain('pushed to 3 of 3 connected member(s)')
      expect(published).toHaveLength(1)
    } finally {
      await server.stop()
      await db.close()
    }
  })
})
