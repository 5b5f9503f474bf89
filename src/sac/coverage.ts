/**
 * The resource rule of access control, in one place: a chain covers a
 * resource when its subject is the resource's owner or custodian and every
 * link's resource matches it (the effective resource is the intersection of
 * every link's, see selector.ts). `AccessControl.evaluate` applies it to one
 * request; the query and similarity services apply it to each record after
 * one audited check.
 */
import { resourceMatches, type ResourceDescriptor } from './selector.js'
import type { Certificate } from './sac.js'
import { equalBytes } from './validate.js'

/** Why a chain does not cover a resource: `'subject'` (no authority over it), or the first link whose resource excludes it. */
export type CoverageProblem = 'subject' | number

/** Undefined when the chain (root first) with `subject` covers `resource`; otherwise what stands in the way. */
export function coverageProblem (subject: Uint8Array, certificates: readonly Pick<Certificate, 'resource'>[], resource: ResourceDescriptor): CoverageProblem | undefined {
  const { owner, custodian } = resource
  if (!equalBytes(subject, owner) && (custodian === undefined || !equalBytes(subject, custodian))) return 'subject'
  const link = certificates.findIndex(c => !resourceMatches(c.resource, resource))
  return link < 0 ? undefined : link
}
