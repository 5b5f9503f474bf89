/**
 * The access check every request handler makes first: decode the
 * authorization (invocation + chain + memberships) the request carries, and
 * ask the node's access control about this command, its arguments and the
 * resource. A malformed authorization is INVALID; a refusal is DENIED with
 * the reason code only.
 */
import type { Ability, AccessRequest, AllowDecision, Decision, ResourceDescriptor } from '../sac/index.js'
import { decodeAuthorization } from '../sac/index.js'
import type { RpcReply } from './rpc.js'

export interface AccessChecker {
  check: (request: AccessRequest) => Promise<Decision>
}

export interface AuthorizeInput {
  command: string
  args: Uint8Array
  resource: ResourceDescriptor
  ability: Ability
  remotePeer: string
}

export type Authorized = { allowed: true, decision: AllowDecision } | { allowed: false, reply: RpcReply }

export async function authorize (access: AccessChecker, authBytes: Uint8Array, input: AuthorizeInput): Promise<Authorized> {
  let auth
  try {
    auth = decodeAuthorization(authBytes)
  } catch {
    return { allowed: false, reply: { status: 'INVALID' } }
  }
  const decision = await access.check({ invocation: auth.invocation, chain: auth.chain, memberships: auth.memberships, ...input })
  return decision.allow ? { allowed: true, decision } : { allowed: false, reply: { status: 'DENIED', reason: decision.reason } }
}
