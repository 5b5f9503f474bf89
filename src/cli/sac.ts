/**
 * `dm2 sac issue|delegate|inspect|verify|revoke`: semantic access
 * certificates as files. A chain file holds a certificate and its ancestors,
 * root first — what a holder presents — as JSON
 * `{ format: 'dm2-sac-chain', version: 1, chain: [base64…], memberships: [base64…] }`;
 * a revocation file holds one signed revocation notice. Neither holds a secret.
 */
import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import {
  certificateToJSON, createRevocation, delegate, issueCertificate, openCertificate, openRevocation, REVOCATION_REASONS, verifyChain,
  type Ability, type Certificate, type CertificateFields, type Modality, type Narrowing, type Resource, type RevocationReason, type Selector
} from '../sac/index.js'
import { CONFIG_FILE_NAME } from '../config/defaults.js'
import { collect } from './options.js'
import { keyFromRef, publicKeyFromRef, withKeyDir, type KeyDirOptions } from './keys.js'
import { connectToNode } from './status.js'

export const CHAIN_FILE_FORMAT = 'dm2-sac-chain'
export const REVOCATION_FILE_FORMAT = 'dm2-revocation'
/** Files the CLI reads are small; refuse anything absurd before parsing it. */
const MAX_FILE_BYTES = 1024 * 1024
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

/** `30d`, `+12h`, `90m`, `3600s`, `2w`, or an ISO 8601 date or date-time → Unix seconds. */
export function parseWhen (value: string, now = Date.now()): number {
  const rel = /^\+?(\d{1,6})([smhdw])$/.exec(value)
  if (rel !== null) return Math.floor(now / 1000) + Number(rel[1]) * (UNITS[rel[2] as string] as number)
  const t = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(t)) throw new InvalidArgumentError(`${JSON.stringify(value)} is not a time: use e.g. 30d, 12h, 2025-01-31 or 2025-01-31T12:00:00Z`)
  return Math.floor(t / 1000)
}

/** Writes a file 0600 under a temporary name, then renames it into place. */
export async function writeFileAtomic (path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx', flush: true })
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

/** Reads a JSON file of ours, size-capped, checking its format tag. */
export async function readJsonFile (path: string, format: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8')
  if (text.length > MAX_FILE_BYTES) throw new Error(`${path} is too large`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error(`${path} is not JSON`)
  }
  const o = value as Record<string, unknown>
  if (value === null || typeof value !== 'object' || o.format !== format || o.version !== 1) throw new Error(`${path} is not a ${format} v1 file`)
  return o
}

const base64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')

function fromBase64List (value: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(value) || !value.every(v => typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v))) throw new Error(`${what} must be a list of base64 strings`)
  return value.map((v: string) => Uint8Array.from(Buffer.from(v, 'base64')))
}

export interface ChainFile { chain: Uint8Array[], memberships: Uint8Array[] }

export async function readChainFile (path: string): Promise<ChainFile> {
  const o = await readJsonFile(path, CHAIN_FILE_FORMAT)
  const chain = fromBase64List(o.chain, 'chain')
  if (chain.length === 0) throw new Error(`${path} holds no certificate`)
  return { chain, memberships: fromBase64List(o.memberships ?? [], 'memberships') }
}

async function writeChainFile (path: string, file: ChainFile): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ format: CHAIN_FILE_FORMAT, version: 1, chain: file.chain.map(base64), memberships: file.memberships.map(base64) }, null, 2) + '\n')
}

async function readRevocationFile (path: string): Promise<Uint8Array> {
  const o = await readJsonFile(path, REVOCATION_FILE_FORMAT)
  const [notice] = fromBase64List([o.notice], 'notice')
  return notice as Uint8Array
}

interface ResourceOptions {
  contentId?: string
  owner?: string[]
  modality?: string[]
  bodyPart?: string[]
  studyType?: string[]
  dateFrom?: string
  dateTo?: string
  allFiles?: boolean
}

function withResource (command: Command): Command {
  return command
    .option('--content-id <cid>', 'one file: its content id (owner: --owner, else the subject)')
    .option('--owner <key>', 'data owner (hex key or one of your keys); repeatable for a selector', collect)
    .option('--modality <code>', 'DICOM modality, e.g. CT (repeatable)', collect)
    .option('--body-part <code>', 'DICOM body part, e.g. CHEST (repeatable)', collect)
    .option('--study-type <code>', 'study type code (repeatable)', collect)
    .option('--date-from <YYYYMMDD>', 'studies on or after this date')
    .option('--date-to <YYYYMMDD>', 'studies on or before this date')
}

async function resourceFrom (opts: ResourceOptions & KeyDirOptions, subject: Uint8Array): Promise<Resource | undefined> {
  const owners = await Promise.all((opts.owner ?? []).map(async o => await publicKeyFromRef(opts, o)))
  if (opts.contentId !== undefined) return { file: { owner: owners[0] ?? subject, contentId: opts.contentId } }
  const selector: Selector = {}
  if (owners.length > 0) selector.owner = owners
  if (opts.modality !== undefined) selector.modality = opts.modality as Modality[]
  if (opts.bodyPart !== undefined) selector.bodyPart = opts.bodyPart
  if (opts.studyType !== undefined) selector.studyType = opts.studyType
  if (opts.dateFrom !== undefined || opts.dateTo !== undefined) {
    selector.date = { ...(opts.dateFrom === undefined ? {} : { from: opts.dateFrom }), ...(opts.dateTo === undefined ? {} : { to: opts.dateTo }) }
  }
  if (Object.keys(selector).length > 0 || opts.allFiles === true) return { selector }
  return undefined
}

/** A key, or `group:<root key>:<name>`. */
async function audienceFrom (opts: KeyDirOptions, ref: string): Promise<CertificateFields['audience']> {
  const group = /^group:([^:]+):(.+)$/.exec(ref)
  if (group !== null) return { root: await publicKeyFromRef(opts, group[1] as string), name: group[2] as string }
  return await publicKeyFromRef(opts, ref)
}

function parseDepth (value: string): number {
  if (!/^[0-4]$/.test(value)) throw new InvalidArgumentError('a delegation depth 0–4')
  return Number(value)
}

function parseReason (value: string): RevocationReason {
  if (!(REVOCATION_REASONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${REVOCATION_REASONS.join(', ')}`)
  return value as RevocationReason
}

function summary (cert: Certificate): string {
  const j = certificateToJSON(cert)
  return `certificate ${cert.id}\n  abilities ${cert.abilities.join(', ')}; depth ${cert.depth}; valid ${String(j.notBefore)} … ${String(j.expiry)}`
}

interface CommonOptions extends KeyDirOptions, ResourceOptions {
  key: string
  audience: string
  ability?: string[]
  notBefore?: string
  expiry?: string
  depth?: number
  purpose?: string
  out: string
}

export function registerSac (program: Command): void {
  const sac = program.command('sac').description('semantic access certificates: issue, delegate, inspect, verify, revoke')
  withResource(withKeyDir(sac.command('issue')))
    .description('issue a root certificate: you (the data owner) grant rights to a key or a group')
    .requiredOption('--key <key>', 'your signing key (label, public-key prefix or file)')
    .requiredOption('--audience <key>', 'who receives the right: hex key, one of your keys, or group:<root>:<name>')
    .requiredOption('--ability <ability>', 'image/read, meta/read, query, similarity, annotate, delegate, … (repeatable)', collect)
    .requiredOption('--expiry <time>', 'end of validity: 30d, 12h, 2025-12-31, …')
    .option('--not-before <time>', 'start of validity (default now)')
    .option('--depth <n>', 'how many more times it may be delegated (needs the delegate ability)', parseDepth, 0)
    .option('--purpose <code>', 'purpose of use, audited (HL7 PurposeOfUse, e.g. TREAT, HRESCH)', 'TREAT')
    .option('--all-files', 'the whole record of the data owner (no narrower resource)')
    .requiredOption('--out <file>', 'chain file to write')
    .action(async (opts: CommonOptions) => {
      const now = Date.now()
      const issuer = await keyFromRef(opts, opts.key)
      const resource = await resourceFrom(opts, issuer.signer.publicKey)
      if (resource === undefined) throw new Error('say what the certificate covers: --content-id, a selector (--modality, --body-part, …) or --all-files')
      const cert = issueCertificate({
        audience: await audienceFrom(opts, opts.audience),
        resource,
        abilities: (opts.ability ?? []) as Ability[],
        notBefore: opts.notBefore === undefined ? Math.floor(now / 1000) : parseWhen(opts.notBefore, now),
        expiry: parseWhen(opts.expiry as string, now),
        depth: opts.depth ?? 0,
        purpose: opts.purpose ?? 'TREAT'
      }, issuer.signer)
      await writeChainFile(resolve(opts.out), { chain: [cert.bytes], memberships: [] })
      console.log(summary(cert))
      console.log(`chain file ${resolve(opts.out)}`)
    })
  withResource(withKeyDir(sac.command('delegate')))
    .description('hand on a narrower right from a chain you hold')
    .argument('<chain>', 'chain file whose last certificate is addressed to you')
    .requiredOption('--key <key>', 'your key (the audience of the last certificate)')
    .requiredOption('--audience <key>', 'who receives the right: hex key, one of your keys, or group:<root>:<name>')
    .option('--ability <ability>', 'abilities to pass on (default: all of the parent\'s, minus delegate at depth 0)', collect)
    .option('--expiry <time>', 'end of validity (default: the parent\'s)')
    .option('--not-before <time>', 'start of validity (default: the parent\'s)')
    .option('--depth <n>', 'remaining delegation depth (default: the parent\'s − 1)', parseDepth)
    .option('--purpose <code>', 'purpose of use (default: the parent\'s)')
    .requiredOption('--out <file>', 'chain file to write')
    .action(async (chainPath: string, opts: CommonOptions) => {
      const now = Date.now()
      const file = await readChainFile(resolve(chainPath))
      const parent = openCertificate(file.chain[file.chain.length - 1] as Uint8Array)
      const holder = await keyFromRef(opts, opts.key)
      const narrowing: Narrowing = { audience: await audienceFrom(opts, opts.audience) }
      const resource = await resourceFrom(opts, parent.subject)
      if (resource !== undefined) narrowing.resource = resource
      if (opts.ability !== undefined) narrowing.abilities = opts.ability as Ability[]
      if (opts.expiry !== undefined) narrowing.expiry = parseWhen(opts.expiry, now)
      if (opts.notBefore !== undefined) narrowing.notBefore = parseWhen(opts.notBefore, now)
      if (opts.depth !== undefined) narrowing.depth = opts.depth
      if (opts.purpose !== undefined) narrowing.purpose = opts.purpose
      const child = delegate(parent, narrowing, holder.signer)
      await writeChainFile(resolve(opts.out), { chain: [...file.chain, child.bytes], memberships: file.memberships })
      console.log(summary(child))
      console.log(`chain file ${resolve(opts.out)} (${file.chain.length + 1} links)`)
    })
  sac.command('inspect')
    .description('print a chain or revocation file as JSON (keys and ids in hex; nothing secret)')
    .argument('<file>', 'chain file or revocation file')
    .action(async (path: string) => {
      const text = await readFile(resolve(path), 'utf8')
      if (text.length > MAX_FILE_BYTES) throw new Error(`${path} is too large`)
      let format: unknown
      try {
        format = (JSON.parse(text) as { format?: unknown } | null)?.format
      } catch {
        throw new Error(`${path} is not JSON`)
      }
      if (format === REVOCATION_FILE_FORMAT) {
        const { notice: _n, ...rest } = openRevocation(await readRevocationFile(resolve(path)))
        console.log(JSON.stringify({ revocation: { ...rest, expiresAt: new Date(rest.expiresAt).toISOString() } }, null, 2))
        return
      }
      const file = await readChainFile(resolve(path))
      const chain = file.chain.map(bytes => {
        try {
          return certificateToJSON(openCertificate(bytes))
        } catch (err) {
          return { error: `${(err as Error).name}: ${(err as Error).message}` }
        }
      })
      console.log(JSON.stringify({ chain, memberships: file.memberships.length }, null, 2))
    })
  withKeyDir(sac.command('verify'))
    .description('verify a chain offline: signatures, links, narrowing, validity, revocations')
    .argument('<chain>', 'chain file')
    .option('--holder <key>', 'the key that will use it (hex or one of yours): must be the audience of the last link')
    .option('--revocations <file>', 'revocation file to take into account (repeatable)', collect)
    .option('--at <time>', 'check at this time instead of now')
    .action(async (chainPath: string, opts: KeyDirOptions & { holder?: string, revocations?: string[], at?: string }) => {
      const now = opts.at === undefined ? Date.now() : parseWhen(opts.at) * 1000
      const file = await readChainFile(resolve(chainPath))
      const revoked = new Set<string>()
      for (const path of opts.revocations ?? []) revoked.add(openRevocation(await readRevocationFile(resolve(path)), { now }).target)
      const result = verifyChain(file.chain, {
        now,
        memberships: file.memberships,
        revocations: { isRevoked: id => revoked.has(id) },
        ...(opts.holder === undefined ? {} : { holder: await publicKeyFromRef(opts, opts.holder) })
      })
      if (!result.ok) throw new Error(`invalid chain: ${result.reason}${result.link === undefined ? '' : ` at link ${result.link}`} (${result.detail})`)
      const { chain } = result
      console.log(`valid: ${chain.ids.length} link(s), leaf ${chain.leaf.id}`)
      console.log(`  subject ${Buffer.from(chain.subject).toString('hex')}; abilities ${chain.leaf.abilities.join(', ')}; until ${new Date(chain.expiresAt).toISOString()}`)
    })
  withKeyDir(sac.command('revoke'))
    .description('revoke a certificate you issued (or one descending from a certificate you issued)')
    .argument('<chain>', 'chain file from the root to the certificate to revoke')
    .requiredOption('--key <key>', 'your key: the issuer of the certificate or of one of its ancestors')
    .option('--target <id>', 'id of the certificate to revoke (default: the last in the chain)')
    .option('--reason <code>', REVOCATION_REASONS.join(', '), parseReason, 'unspecified')
    .requiredOption('--out <file>', 'revocation file to write')
    .option('--push', 'hand it to the running node (--config), which pushes it to the federation')
    .option('-c, --config <file>', 'the node\'s config file, with --push (env DM2_CONFIG)', process.env.DM2_CONFIG ?? CONFIG_FILE_NAME)
    .action(async (chainPath: string, opts: KeyDirOptions & { key: string, target?: string, reason: RevocationReason, out: string, push?: boolean, config: string }) => {
      const file = await readChainFile(resolve(chainPath))
      const revoker = await keyFromRef(opts, opts.key)
      const revocation = createRevocation({
        chain: file.chain,
        memberships: file.memberships,
        reason: opts.reason,
        ...(opts.target === undefined ? {} : { target: opts.target })
      }, revoker.signer)
      await writeFileAtomic(resolve(opts.out), JSON.stringify({ format: REVOCATION_FILE_FORMAT, version: 1, target: revocation.target, notice: base64(revocation.notice) }, null, 2) + '\n')
      console.log(`revoked ${revocation.target} (${revocation.reason})`)
      console.log(`revocation file ${resolve(opts.out)}`)
      if (opts.push !== true) return
      const client = await connectToNode(opts.config)
      try {
        const result = await client.call<{ fresh: boolean, peers: number, delivered: number }>('revocations.publish', { notice: base64(revocation.notice) })
        console.log(`pushed to ${result.delivered} of ${result.peers} connected member(s)${result.fresh ? '' : ' (the node knew it already)'}`)
      } finally {
        client.close()
      }
    })
}
