/**
 * Access control for a test node, bound once the node exists: the module
 * needs the node's peer id (invocations are addressed to it), and the node's
 * services need the checker when they are created. One module per node: its
 * replay cache spans requests. Every decision goes to `decisions`.
 */
import type { AccessChecker } from '../../src/protocols/authorize.js'
import { accessControl, type AccessControl, type Decision } from '../../src/sac/index.js'

export function lateAccess (decisions: Decision[] = []): { access: AccessChecker, bind: (serverPeer: string) => void } {
  let ac: AccessControl | undefined
  return {
    access: {
      check: async (request) => {
        if (ac === undefined) throw new Error('access control not bound to a node yet')
        return await ac.check(request)
      }
    },
    bind: (serverPeer) => { ac = accessControl({ serverPeer, audit: { record: d => { decisions.push(d) } } }) }
  }
}
