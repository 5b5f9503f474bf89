/**
 * Which records a certificate chain lets a query return. Pure.
 *
 * An invocation is single-use (replay cache), so a query makes exactly one
 * access check, against a *witness*: a descriptor built from the chain alone
 * that lies inside every link's resource, with this site's custodian key.
 * The check then decides everything that does not depend on a record —
 * invocation (audience, origin, command, arguments, time, replay), chain
 * (signatures, links, time, revocation, holder), the subject's authority and
 * the ability — and audits it once. The witness depends on the chain only,
 * never on the site's records, so the answer to a forged or foreign chain
 * cannot reveal whether the site holds anything it would match.
 *
 * Each record is then filtered with exactly the resource rule of
 * `AccessControl.evaluate` (src/sac/access.ts): the chain's subject is the
 * record's owner or custodian, and every link's resource matches it (the
 * effective resource is the intersection of all links, selector.ts).
 */
import { coverageProblem, type Certificate, type ResourceDescriptor, type Selector } from '../../sac/index.js'
import { QUERY_CONTENT_ID } from './constants.js'

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

/** Intersection of the constrained sets (undefined: no link constrains the field). */
function intersect<T> (sets: ReadonlyArray<readonly T[] | undefined>, eq: (a: T, b: T) => boolean): T[] | undefined {
  let out: T[] | undefined
  for (const set of sets) {
    if (set === undefined) continue
    out = out === undefined ? [...set] : out.filter(v => set.some(w => eq(v, w)))
  }
  return out
}

const eqString = (a: string, b: string): boolean => a === b

/**
 * A descriptor every link of `certificates` (root first) covers, owned by the
 * subject where the links allow it, held by `custodian`; undefined when the
 * links' resources have nothing in common (the chain covers nothing).
 */
export function witnessOf (certificates: readonly Certificate[], custodian: Uint8Array): ResourceDescriptor | undefined {
  const leaf = certificates[certificates.length - 1]
  if (leaf === undefined) return undefined
  const subject = leaf.subject
  let file: { owner: Uint8Array, contentId: string } | undefined
  const selectors: Selector[] = []
  for (const { resource } of certificates) {
    if ('file' in resource) {
      if (file !== undefined && (!same(file.owner, resource.file.owner) || file.contentId !== resource.file.contentId)) return undefined
      file = resource.file
    } else {
      selectors.push(resource.selector)
    }
  }
  const owners = intersect(selectors.map(s => s.owner), same)
  let owner: Uint8Array
  if (file !== undefined) {
    owner = file.owner
    if (owners !== undefined && !owners.some(o => same(o, owner))) return undefined
  } else if (owners === undefined) {
    owner = subject
  } else {
    const first = owners.find(o => same(o, subject)) ?? owners[0]
    if (first === undefined) return undefined
    owner = first
  }
  const witness: ResourceDescriptor = { owner, custodian, contentId: file?.contentId ?? QUERY_CONTENT_ID }
  for (const field of ['modality', 'bodyPart', 'studyType'] as const) {
    const values = intersect<string>(selectors.map(s => s[field]), eqString)
    if (values === undefined) continue
    const first = values[0]
    if (first === undefined) return undefined
    witness[field] = first
  }
  let from: string | undefined
  let to: string | undefined
  for (const s of selectors) {
    if (s.date?.from !== undefined && (from === undefined || s.date.from > from)) from = s.date.from
    if (s.date?.to !== undefined && (to === undefined || s.date.to < to)) to = s.date.to
  }
  if (from !== undefined && to !== undefined && from > to) return undefined
  const date = from ?? to
  if (date !== undefined) witness.date = date
  return witness
}

/** Whether a verified chain (root first) covers a record: the resource rule of `AccessControl.evaluate`. */
export function covers (certificates: readonly Certificate[], record: ResourceDescriptor): boolean {
  const leaf = certificates[certificates.length - 1]
  return leaf !== undefined && coverageProblem(leaf.subject, certificates, record) === undefined
}
