/**
 * `dm2 federation create|add-site|sign|show`: the signed federation roster
 * (src/sac/roster.ts). An authority creates the roster with the authority set
 * and threshold, adds the member sites, and each authority signs with its own
 * key until the threshold is met; nodes then load the file (config `roster`).
 */
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { createKeyFile } from '../sac/keys-file.js'
import {
  createRoster, formatRosterFile, openRoster, parseRosterFile, ROSTER_ROLES, signRoster, withSite,
  type RosterFile, type RosterRole
} from '../sac/roster.js'
import { generateSigner, keyId } from '../sac/ed25519.js'
import { decodeEnvelope } from '../sac/envelope.js'
import { collect, parsePositiveInt } from './options.js'
import { keyFromRef, publicKeyFromRef, withKeyDir, type KeyDirOptions } from './keys.js'
import { parseWhen, writeFileAtomic } from './sac.js'

async function readRoster (path: string): Promise<RosterFile> {
  return parseRosterFile(await readFile(path, 'utf8'))
}

function parseRole (value: string, previous: RosterRole[] = []): RosterRole[] {
  if (!(ROSTER_ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${ROSTER_ROLES.join(', ')}`)
  return [...previous, value as RosterRole]
}

/** "2 of 3 signatures (threshold met)". */
function signatureState (file: RosterFile): string {
  const { threshold, keys } = file.payload.authorities
  let state = 'not signed yet'
  if (file.signatures.length > 0) {
    try {
      openRoster(file.signatures, { payload: file.payloadBytes })
      state = 'threshold met: ready to use'
    } catch (err) {
      state = `not valid yet: ${(err as Error).message}`
    }
  }
  return `${file.signatures.length} signature(s), ${threshold} of ${keys.length} authorities needed; ${state}`
}

export function registerRoster (federation: Command): void {
  withKeyDir(federation.command('create'))
    .description('create a federation roster: its authority keys, threshold, and no sites yet')
    .argument('<roster>', 'roster file to create')
    .requiredOption('--name <federation>', 'name of the federation')
    .option('--authority <key>', 'an authority\'s public key (hex, or one of your keys); repeatable', collect)
    .option('--new-key <label>', 'create a new authority key in --dir with this label; repeatable (default: one, <name>-authority)', collect)
    .option('--threshold <m>', 'signatures needed (m of n authorities)', parsePositiveInt, 1)
    .action(async (path: string, opts: KeyDirOptions & { name: string, authority?: string[], newKey?: string[], threshold: number }) => {
      const keys = await Promise.all((opts.authority ?? []).map(async a => await publicKeyFromRef(opts, a)))
      const labels = opts.newKey ?? (keys.length === 0 ? [`${opts.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}-authority`] : [])
      if (await stat(resolve(path)).then(() => true, () => false)) throw new Error(`${resolve(path)} already exists`)
      // A dry run with throwaway keys: a bad name or threshold is refused before any key file is created.
      createRoster({ federation: opts.name, authorities: [...keys, ...labels.map(() => generateSigner().publicKey)], threshold: opts.threshold })
      for (const label of labels) {
        const key = await createKeyFile(resolve(opts.dir), { label })
        keys.push(key.signer.publicKey)
        console.log(`authority key ${key.label}: ${key.publicKey} (${key.path})`)
      }
      const roster = createRoster({ federation: opts.name, authorities: keys, threshold: opts.threshold })
      await writeFileAtomic(resolve(path), formatRosterFile(roster))
      console.log(`roster ${resolve(path)}: federation "${roster.federation}", version ${roster.version}, ${roster.authorities.threshold} of ${roster.authorities.keys.length} authorities must sign`)
    })
  federation.command('add-site')
    .description('add a member site (or update it); a signed roster becomes the next version, to be signed again')
    .argument('<roster>', 'roster file')
    .requiredOption('--peer <peer-id>', 'the site node\'s libp2p peer id (dm2 init prints it)')
    .requiredOption('--name <site>', 'name of the site')
    .option('--role <role>', `${ROSTER_ROLES.join(' or ')} (repeatable; none: a member that holds nothing)`, parseRole)
    .requiredOption('--expiry <time>', 'end of membership: 365d, 2026-12-31, …')
    .option('--not-before <time>', 'start of membership (default now)')
    .action(async (path: string, opts: { peer: string, name: string, role?: RosterRole[], expiry: string, notBefore?: string }) => {
      const now = Date.now()
      const file = await readRoster(resolve(path))
      let payload = withSite(file.payload, {
        peerId: opts.peer,
        name: opts.name,
        roles: opts.role ?? [],
        notBefore: opts.notBefore === undefined ? Math.floor(now / 1000) : parseWhen(opts.notBefore, now),
        expiry: parseWhen(opts.expiry, now)
      })
      const signed = file.signatures.length > 0
      // Signatures cover the old payload: a changed roster is a new version, signed afresh.
      if (signed) payload = { ...payload, version: payload.version + 1 }
      payload = { ...payload, issuedAt: Math.floor(now / 1000) }
      await writeFileAtomic(resolve(path), formatRosterFile(payload))
      console.log(`${payload.sites.length} site(s); version ${payload.version}${signed ? ' (signatures dropped: sign again)' : ''}`)
    })
  withKeyDir(federation.command('sign'))
    .description('sign the roster with one authority key')
    .argument('<roster>', 'roster file')
    .requiredOption('--key <key>', 'your authority key (label, public-key prefix or file)')
    .option('--current <roster>', 'the roster in force, when you co-sign as one of its authorities a roster that replaces them')
    .action(async (path: string, opts: KeyDirOptions & { key: string, current?: string }) => {
      const file = await readRoster(resolve(path))
      const key = await keyFromRef(opts, opts.key)
      const current = opts.current === undefined ? undefined : (await readRoster(resolve(opts.current))).payload.authorities
      const envelope = signRoster(file.payload, key.signer, current)
      // Signing again replaces this key's earlier signature.
      const others = file.signatures.filter(s => keyId(decodeEnvelope(s).signer) !== key.publicKey)
      const next: RosterFile = { ...file, signatures: [...others, envelope] }
      await writeFileAtomic(resolve(path), formatRosterFile(file.payload, next.signatures))
      console.log(`signed by ${key.label}; ${signatureState(next)}`)
    })
  federation.command('show')
    .description('print a roster: authorities, signatures and sites')
    .argument('<roster>', 'roster file')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const file = await readRoster(resolve(path))
      const p = file.payload
      const sites = p.sites.map(s => ({ ...s, notBefore: new Date(s.notBefore * 1000).toISOString(), expiry: new Date(s.expiry * 1000).toISOString() }))
      if (opts.json === true) {
        console.log(JSON.stringify({ federation: p.federation, version: p.version, authorities: p.authorities.keys.map(keyId), threshold: p.authorities.threshold, signatures: file.signatures.length, sites }, null, 2))
        return
      }
      console.log(`federation ${p.federation}, version ${p.version}: ${signatureState(file)}`)
      for (const k of p.authorities.keys) console.log(`  authority ${keyId(k)}`)
      for (const s of sites) console.log(`  site ${s.peerId}  ${s.name}  [${s.roles.join(', ')}]  ${s.notBefore} … ${s.expiry}`)
    })
}
