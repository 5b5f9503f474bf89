/**
 * The client commands a running node serves to the local `dm2` CLI over its
 * control channel (`query`, `get`, `parameters`). The user's key and
 * certificates travel with each call over the 0600 socket: the node acts for
 * the user for that call only and keeps nothing.
 */
import type { ControlHandler } from '../control/index.js'
import type { HospitalNode } from '../node/index.js'
import { signerFromSeed } from '../sac/index.js'
import { Dm2Client } from './client.js'

interface UserParams {
  /** Base64 Ed25519 seed of the user's key. */
  seed: string
  /** Base64 certificate envelopes. */
  certificates: string[]
}

class ControlParamsError extends Error {
  static override name = 'ControlParamsError'

  constructor (message: string) {
    super(message)
    this.name = 'ControlParamsError'
  }
}

function client (node: HospitalNode, params: unknown): Dm2Client {
  const p = params as Partial<UserParams> | null
  if (p === null || typeof p !== 'object' || typeof p.seed !== 'string' || !Array.isArray(p.certificates) || p.certificates.length > 64) {
    throw new ControlParamsError('a user key (seed) and certificates are required')
  }
  const seed = Buffer.from(p.seed, 'base64')
  if (seed.byteLength !== 32) throw new ControlParamsError('the key seed must be 32 bytes')
  return new Dm2Client(node, { signer: signerFromSeed(new Uint8Array(seed)), certificates: p.certificates.map(c => new Uint8Array(Buffer.from(String(c), 'base64'))) })
}

function text (params: unknown, name: string, max = 4096): string {
  const v = (params as Record<string, unknown> | null)?.[name]
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ControlParamsError(`${name} must be a non-empty string`)
  return v
}

export function clientControlHandlers (node: HospitalNode): Record<string, ControlHandler> {
  return {
    query: async (params, { signal }) => await client(node, params).query(text(params, 'where'), {
      identified: (params as { identified?: unknown }).identified === true, signal
    }),
    parameters: async (params, { signal }) => {
      const r = await client(node, params).parameters(text(params, 'lfn', 128), { signal })
      return { lfn: r.lfn, master: r.master, version: r.version, meta: r.meta }
    },
    get: async (params, { signal, progress }) => await client(node, params).getImage(text(params, 'lfn', 128), {
      out: text(params, 'out'), signal, onProgress: e => { progress(e) }
    })
  }
}
