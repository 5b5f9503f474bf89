/**
 * A user's certificates, and the choice of which chain to present to which
 * site: the chain whose root was issued by the data's custodian (the site
 * holding the data, acting for its patients) and whose leaf names this user.
 */
import {
  abilityClosure, createInvocation, encodeAuthorization, openCertificate, type Ability, type Certificate, type Signer
} from '../sac/index.js'

export interface UserIdentity {
  /** The user's Ed25519 key: signs invocations. */
  signer: Signer
  /** Envelope bytes of every certificate the user holds (roots and delegations). */
  certificates: Uint8Array[]
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

export class Wallet {
  readonly signer: Signer
  private readonly byId = new Map<string, Certificate>()

  constructor (user: UserIdentity) {
    this.signer = user.signer
    for (const bytes of user.certificates) {
      const c = openCertificate(bytes)
      this.byId.set(c.id, c)
    }
  }

  /** Root-first chains ending at a certificate for this user, rooted at `custodian`, granting `ability`. */
  chainFor (custodian: Uint8Array, ability: Ability, nowS = Math.floor(Date.now() / 1000)): Certificate[] | undefined {
    for (const leaf of this.byId.values()) {
      if (!('key' in leaf.audience) || !same(leaf.audience.key, this.signer.publicKey)) continue
      if (leaf.expiry <= nowS || leaf.notBefore > nowS) continue
      if (!abilityClosure(leaf.abilities).has(ability)) continue
      const chain: Certificate[] = [leaf]
      let ok = true
      while ((chain[0] as Certificate).parentIds.length > 0) {
        const parent = this.byId.get((chain[0] as Certificate).parentIds[0] as string)
        if (parent === undefined || chain.length > 5) { ok = false; break }
        chain.unshift(parent)
      }
      if (ok && same((chain[0] as Certificate).issuer, custodian)) return chain
    }
    return undefined
  }

  /** An authorization for one request: a fresh single-use invocation plus the chain. */
  authorization (chain: Certificate[], fields: { audience: string, origin: string, command: string, args: Uint8Array }): Uint8Array {
    const leaf = chain[chain.length - 1] as Certificate
    const invocation = createInvocation({ ...fields, proof: leaf.id }, this.signer)
    return encodeAuthorization({ invocation: invocation.bytes, chain: chain.map(c => c.bytes), memberships: [] })
  }
}
