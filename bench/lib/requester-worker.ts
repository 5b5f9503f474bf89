/**
 * A requesting hospital in a process of its own, for bench/getimage.ts:
 * `node --import tsx bench/lib/requester-worker.ts`, driven over the IPC
 * channel (see requester-process.ts). Each hospital of a real federation is
 * a machine of its own: here the requester's half of a getImage (receiving,
 * checking and decrypting the chunks, writing the volume) runs on the other
 * core, beside the master's. Timings are taken here, so the IPC round trip
 * stays out of them. The process leaves when told to or when its parent goes.
 */
import '../../src/polyfill.js'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Wallet } from '../../src/api/wallet.js'
import { loadConfig } from '../../src/config/load.js'
import { routingTableSize } from '../../src/node/discovery.js'
import { createHospitalNode, type HospitalNode } from '../../src/node/index.js'
import { localNodeOverrides } from '../../src/node/local-federation.js'
import { issueCertificate, signerFromSeed } from '../../src/sac/index.js'
import type { RequesterCall, RequesterInit, RequesterMessage } from './requester-process.js'
import { timedGetImage } from './timed-get.js'

let node: HospitalNode | undefined
let wallet: Wallet | undefined
let leaving: Promise<void> | undefined

function send (m: RequesterMessage): void {
  if (process.connected) process.send?.(m)
}

async function leave (code: number): Promise<never> {
  leaving ??= (async () => { await node?.stop() })()
  await leaving.catch(() => {})
  process.exit(code)
}

async function start (init: RequesterInit): Promise<{ peerId: string }> {
  const config = await loadConfig({ env: {}, cwd: init.dir, overrides: localNodeOverrides(init) })
  node = createHospitalNode(config)
  await node.start()
  wallet = new Wallet({ signer: signerFromSeed(Uint8Array.from(init.seed)), certificates: init.certificates.map(c => Uint8Array.from(c)) })
  return { peerId: node.peerId.toString() }
}

async function run (call: RequesterCall): Promise<unknown> {
  if (node === undefined || wallet === undefined) throw new Error('the requester has not started')
  const n = node
  switch (call.command) {
    case 'routing': return routingTableSize(n)
    case 'resolvable': return await n.localization.resolveLfn(call.lfn, { fresh: true }).then(() => true, () => false)
    case 'get': return await timedGetImage(n, wallet, call)
    case 'settled': return await n.dataPlane.copyWriter.settled()
    case 'register': {
      let lfn = ''
      for (const f of await readdir(call.dir)) lfn = (await n.dicom.ingestor.importFile(join(call.dir, f))).lfn
      await n.dicom.registry.register(lfn)
      return lfn
    }
    case 'certify': {
      const s = Math.floor(Date.now() / 1000)
      const grant = { audience: Uint8Array.from(call.audience), resource: { selector: {} }, abilities: call.abilities, notBefore: s - 60, expiry: s + 3600, purpose: 'TREAT' }
      return [...issueCertificate(grant, n.siteSigner()).bytes]
    }
  }
}

if (process.send !== undefined) {
  process.on('disconnect', () => { leave(1).catch(() => {}) })
  process.on('message', (raw) => {
    const m = raw as { type: 'init', init: RequesterInit } | { type: 'call', id: number, call: RequesterCall } | { type: 'stop' }
    if (m.type === 'init') {
      start(m.init).then(r => { send({ type: 'ready', peerId: r.peerId }) },
        (err: Error) => { send({ type: 'failed', message: `${err.name}: ${err.message}` }); leave(1).catch(() => {}) })
    } else if (m.type === 'call') {
      run(m.call).then(value => { send({ type: 'result', id: m.id, ok: true, value }) },
        (err: Error) => { send({ type: 'result', id: m.id, ok: false, value: `${err.name}: ${err.message}` }) })
    } else {
      leave(0).catch(() => {})
    }
  })
}
