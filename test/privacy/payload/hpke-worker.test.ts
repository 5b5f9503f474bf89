import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'
import { describe, expect, it } from 'vitest'
import { generateRecipientKeyPair } from '../../../src/privacy/payload/index.js'
import { HpkeWorker } from '../../../src/privacy/payload/hpke-worker.js'

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() })
const info = new TextEncoder().encode('dm2 test info')

describe('HPKE worker', () => {
  it('seals what the library opens on this thread, opens what it seals, and refuses the wrong key', async () => {
    const worker = new HpkeWorker()
    try {
      const alice = generateRecipientKeyPair()
      const mallory = generateRecipientKeyPair()
      const secret = new Uint8Array(32).fill(7)
      // Sealed on the worker, opened here.
      const sealed = await worker.run({ op: 'seal', key: alice.publicKey, info, plaintext: secret })
      expect(sealed.enc?.length).toBe(32)
      const opened = await suite.open({
        recipientKey: await suite.kem.deserializePrivateKey(new Uint8Array(alice.privateKey)), enc: sealed.enc as Uint8Array, info
      }, sealed.ct as Uint8Array)
      expect(new Uint8Array(opened)).toEqual(secret)
      // Sealed here, opened on the worker; several jobs at once each get their own answer.
      const here = await suite.seal({ recipientPublicKey: await suite.kem.deserializePublicKey(new Uint8Array(alice.publicKey)), info }, secret)
      const [mine, theirs] = await Promise.all([
        worker.run({ op: 'open', key: alice.privateKey, info, enc: new Uint8Array(here.enc), ct: new Uint8Array(here.ct) }),
        worker.run({ op: 'open', key: mallory.privateKey, info, enc: new Uint8Array(here.enc), ct: new Uint8Array(here.ct) })
      ])
      expect(mine.plaintext).toEqual(secret)
      expect(theirs).toEqual({ failed: true })
    } finally {
      await worker.close()
    }
  })

  it('a stopped worker fails its pending jobs with a typed error, and the next job starts a new one', async () => {
    const worker = new HpkeWorker()
    const alice = generateRecipientKeyPair()
    const pending = worker.run({ op: 'seal', key: alice.publicKey, info, plaintext: new Uint8Array(32) }).catch((err: Error) => err)
    await worker.close()
    expect(await pending).toMatchObject({ name: 'HpkeWorkerError' })
    const again = await worker.run({ op: 'seal', key: alice.publicKey, info, plaintext: new Uint8Array(32) })
    expect(again.ct?.length).toBe(48)
    await worker.close()
  })
})
