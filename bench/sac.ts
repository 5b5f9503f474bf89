import '../src/polyfill.js'
/**
 * Chain verification throughput (issue 5): chains of 1 and 5 links, cold (every
 * link decoded, schema-checked and signature-verified; the cache starts empty)
 * and warm (every link in the verified-certificate cache), next to raw
 * node:crypto Ed25519 verifications of the same signatures — the ceiling. Measurements are interleaved round by round so that load from
 * other processes hits all figures alike; rates are per CPU-second of this
 * process, and medians over rounds are reported.
 *
 * ratio = (cold 5-link chains/s × 5) ÷ raw verifies/s; goal ≥ 0.7.
 */
import { createPublicKey, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import {
  accessControl, clearKeyCache, createInvocation, decodeEnvelope, delegate, generateSigner, hashArguments, issueCertificate,
  signedMessage, SAC_RECORD, VerifiedCache, verifyChain
} from '../src/sac/index.js'
import type { Certificate, SeededSigner } from '../src/sac/index.js'
import { printResult, printTable, round, summarize } from './lib/report.js'

const ROUNDS = Number(process.env.SAC_BENCH_ROUNDS ?? 25)
const CHAINS = 60
const now = Date.now()
const s = Math.floor(now / 1000)
const signers: SeededSigner[] = Array.from({ length: 6 }, () => generateSigner())
const signer = (i: number): SeededSigner => signers[i] as SeededSigner

function buildChain (length: number): Certificate[] {
  let cert = issueCertificate({
    audience: signer(1).publicKey,
    resource: { selector: { modality: ['CT', 'MR'], bodyPart: ['CHEST', 'HEAD'], date: { from: '20200101' } } },
    abilities: ['delegate', 'image/read', 'meta/read', 'query'],
    notBefore: s - 60,
    expiry: s + 86_400,
    depth: 4,
    purpose: 'TREAT'
  }, signer(0))
  const chain = [cert]
  for (let i = 1; i < length; i++) {
    cert = delegate(cert, { audience: signer(i + 1).publicKey, expiry: s + 86_400 - i }, signer(i))
    chain.push(cert)
  }
  return chain
}

// Distinct chains (fresh nonces), so a cold pass never sees the same bytes twice.
const chains1 = Array.from({ length: CHAINS }, () => buildChain(1).map(c => c.bytes))
const chains5 = Array.from({ length: CHAINS }, () => buildChain(5).map(c => c.bytes))

// Raw ceiling: the very signatures the 5-link chains carry, verified by node:crypto with
// ready KeyObjects — no decoding, no checks, no cache.
const keyObjects = new Map<string, KeyObject>()
const rawSet = chains5.flat().map(bytes => {
  const envelope = decodeEnvelope(bytes)
  const x = Buffer.from(envelope.signer).toString('base64url')
  let key = keyObjects.get(x)
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
    keyObjects.set(x, key)
  }
  return { message: signedMessage(SAC_RECORD, envelope.payload), key, signature: envelope.signature }
})
for (const r of rawSet) if (!verify(null, r.message, r.key, r.signature)) throw new Error('raw sample does not verify')

function rate (count: number, run: () => void): number {
  const start = process.cpuUsage()
  run()
  const used = process.cpuUsage(start)
  return count / ((used.user + used.system) / 1e6)
}

/** One long-lived cache, as on a node, emptied before each cold pass (outside the timing). */
const coldCache = new VerifiedCache()
function coldPass (chains: Uint8Array[][]): number {
  const cache = coldCache
  cache.clear()
  return rate(chains.length, () => {
    for (const links of chains) {
      if (!verifyChain(links, { now, cache }).ok) throw new Error('cold chain rejected')
    }
  })
}

/** Cold, and every chain's keys imported afresh (a node seeing only strangers). */
function coldKeysPass (chains: Uint8Array[][]): number {
  coldCache.clear()
  return rate(chains.length, () => {
    for (const links of chains) {
      clearKeyCache()
      if (!verifyChain(links, { now, cache: coldCache }).ok) throw new Error('cold chain rejected')
    }
  })
}

function warmPass (chains: Uint8Array[][], cache: VerifiedCache, repeat: number): number {
  return rate(chains.length * repeat, () => {
    for (let r = 0; r < repeat; r++) {
      for (const links of chains) {
        if (!verifyChain(links, { now, cache }).ok) throw new Error('warm chain rejected')
      }
    }
  })
}

function rawPass (): number {
  return rate(rawSet.length, () => {
    for (const r of rawSet) {
      if (!verify(null, r.message, r.key, r.signature)) throw new Error('raw rejected')
    }
  })
}

// The whole access check (invocation + 5-link chain + resource + ability), warm chain cache.
const ac = accessControl({ serverPeer: '12D3KooWServer', clock: () => now })
const args = hashArguments({ lfn: 'bench' })
const leafSigner = signer(5)
const leaf = verifyChain(chains5[0] as Uint8Array[], { now })
if (!leaf.ok) throw new Error('bench chain rejected')
const leafId = leaf.chain.leaf.id
function accessPass (count: number): number {
  const invocations = Array.from({ length: count }, () => createInvocation({
    audience: '12D3KooWServer', origin: '12D3KooWClient', command: 'image/get', args, proof: leafId, now
  }, leafSigner).bytes)
  return rate(count, () => {
    for (const invocation of invocations) {
      const d = ac.evaluate({
        invocation,
        chain: chains5[0] as Uint8Array[],
        command: 'image/get',
        args,
        resource: { owner: signer(0).publicKey, contentId: 'bafy-bench', modality: 'CT', bodyPart: 'CHEST', date: '20240101' },
        ability: 'image/read',
        remotePeer: '12D3KooWClient'
      })
      if (!d.allow) throw new Error(`access denied: ${d.reason}`)
    }
  })
}

const warmCache1 = new VerifiedCache()
const warmCache5 = new VerifiedCache()
warmPass(chains1, warmCache1, 1)
warmPass(chains5, warmCache5, 1)
// Warm-up of the JIT before measuring.
for (let i = 0; i < 2; i++) { rawPass(); coldPass(chains1); coldPass(chains5); accessPass(50) }

const samples = { raw: [] as number[], cold1: [] as number[], cold5: [] as number[], cold5keys: [] as number[], warm1: [] as number[], warm5: [] as number[], access: [] as number[] }
for (let r = 0; r < ROUNDS; r++) {
  samples.raw.push(rawPass())
  samples.cold1.push(coldPass(chains1))
  samples.cold5.push(coldPass(chains5))
  samples.cold5keys.push(coldKeysPass(chains5))
  samples.warm1.push(warmPass(chains1, warmCache1, 20))
  samples.warm5.push(warmPass(chains5, warmCache5, 20))
  samples.access.push(accessPass(100))
}

const med = (xs: number[]): number => summarize(xs).median
const raw = med(samples.raw)
const cold5 = med(samples.cold5)
const rows = [
  { figure: 'raw Ed25519 verify (node:crypto)', 'per second': raw, 'signatures/s': raw, 'vs raw': 1 },
  { figure: 'chain of 1, cold', 'per second': med(samples.cold1), 'signatures/s': med(samples.cold1), 'vs raw': med(samples.cold1) / raw },
  { figure: 'chain of 5, cold', 'per second': cold5, 'signatures/s': cold5 * 5, 'vs raw': cold5 * 5 / raw },
  { figure: 'chain of 5, cold, new keys', 'per second': med(samples.cold5keys), 'signatures/s': med(samples.cold5keys) * 5, 'vs raw': med(samples.cold5keys) * 5 / raw },
  { figure: 'chain of 1, cached', 'per second': med(samples.warm1), 'signatures/s': 0, 'vs raw': med(samples.warm1) / raw },
  { figure: 'chain of 5, cached', 'per second': med(samples.warm5), 'signatures/s': 0, 'vs raw': med(samples.warm5) / raw },
  { figure: 'access check, 5 links cached', 'per second': med(samples.access), 'signatures/s': med(samples.access), 'vs raw': med(samples.access) / raw }
]
printTable(`SAC verification, medians of ${ROUNDS} interleaved rounds (${CHAINS} distinct chains per cold pass)`, rows)

printResult({
  bench: 'sac',
  rounds: ROUNDS,
  rawVerifiesPerSec: round(raw, 0),
  cold1ChainsPerSec: round(med(samples.cold1), 0),
  cold5ChainsPerSec: round(cold5, 0),
  cold5NewKeysChainsPerSec: round(med(samples.cold5keys), 0),
  cached1ChainsPerSec: round(med(samples.warm1), 0),
  cached5ChainsPerSec: round(med(samples.warm5), 0),
  accessChecksPerSec: round(med(samples.access), 0),
  ratio: round(cold5 * 5 / raw, 3),
  goal: 0.7
})
