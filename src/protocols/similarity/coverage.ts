/**
 * Which of a site's series a certificate chain covers, decided without
 * another access check. A similarity query is one invocation (single-use),
 * checked once; each candidate is then held to the same two conditions the
 * access check applies to a resource (src/sac/access.ts):
 *
 * - the chain's subject (the root's issuer) is the series' owner or custodian;
 * - every link's resource matches the series' descriptor (the effective
 *   resource is the intersection of all links', src/sac/selector.ts).
 *
 * Opening the links here verifies their signatures only; that the chain as
 * a whole holds (links, times, revocations, audience, ability) is what the
 * one access check establishes before any candidate is ranked.
 */
import { coverageProblem, grants, openCertificate, type Certificate, type ResourceDescriptor } from '../../sac/index.js'

export interface Coverage {
  /** Root issuer: whose authority the chain carries. */
  readonly subject: Uint8Array
  readonly certificates: readonly Certificate[]
  /** Ids of the links, root first (as the access decision lists them). */
  readonly ids: readonly string[]
  /** The leaf grants `meta/read` (diagnosis text may be shown). */
  readonly metaRead: boolean
  /** True when the chain's resource covers the series. */
  covers: (resource: ResourceDescriptor) => boolean
}

/** Opens the links of `chain` (root first); throws the sac errors on a link that does not open. */
export function chainCoverage (chain: readonly Uint8Array[]): Coverage {
  if (chain.length === 0) throw new TypeError('empty chain')
  const certificates = chain.map(bytes => openCertificate(bytes))
  const root = certificates[0] as Certificate
  const leaf = certificates[certificates.length - 1] as Certificate
  const subject = root.issuer
  return {
    subject,
    certificates,
    ids: certificates.map(c => c.id),
    metaRead: grants(leaf.abilities, 'meta/read'),
    covers: (resource) => {
      try {
        return coverageProblem(subject, certificates, resource) === undefined
      } catch {
        // a malformed local descriptor covers nothing
        return false
      }
    }
  }
}
