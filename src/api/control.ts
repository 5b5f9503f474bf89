/**
 * The client commands a running node serves to the local `dm2` CLI over its
 * control channel (`query`, `get`, `parameters`, `similar`, `annotate`). The user's key and
 * certificates travel with each call over the 0600 socket: the node acts for
 * the user for that call only and keeps nothing.
 */
import type { ControlHandler } from '../control/index.js'
import type { HospitalNode } from '../node/index.js'
import { signerFromSeed } from '../sac/index.js'
import { decodeFeatures, isMeasureName, MAX_ENCODED_FEATURES_BYTES, MAX_DIAGNOSIS_CHARS } from '../similarity/index.js'
import { Dm2Client } from './client.js'
import type { SimilarOptions, SimilarQuery } from './similar.js'

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

/** `similar` parameters: an LFN, or base64 features (`dm2 similar file.nii.gz`), and the options. */
function similarParams (params: unknown): { query: SimilarQuery, options: SimilarOptions } {
  const p = params as Record<string, unknown>
  let query: SimilarQuery
  if (typeof p.features === 'string') {
    if (p.features.length > Math.ceil(MAX_ENCODED_FEATURES_BYTES / 3) * 4) throw new ControlParamsError('features too large')
    try {
      query = decodeFeatures(new Uint8Array(Buffer.from(p.features, 'base64')))
    } catch (err) {
      throw new ControlParamsError(`features: ${(err as Error).message}`)
    }
  } else {
    query = text(params, 'lfn', 256)
  }
  const options: SimilarOptions = {}
  if (p.measure !== undefined) {
    if (!isMeasureName(p.measure)) throw new ControlParamsError('measure must be ncc, nmi or cr')
    options.measure = p.measure
  }
  if (p.topK !== undefined) options.topK = Number(p.topK)
  if (p.where !== undefined) options.where = text(params, 'where')
  if (p.requireDiagnosis === true) options.requireDiagnosis = true
  if (p.timeoutMs !== undefined) options.timeoutMs = Number(p.timeoutMs)
  return { query, options }
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
    similar: async (params, { signal }) => {
      const { query, options } = similarParams(params)
      return await client(node, params).similar(query, { ...options, signal })
    },
    annotate: async (params, { signal }) => await client(node, params).annotate(text(params, 'lfn', 256), text(params, 'diagnosis', MAX_DIAGNOSIS_CHARS), { signal }),
    get: async (params, { signal, progress }) => {
      const format = (params as { format?: unknown }).format ?? 'nifti'
      if (format !== 'nifti' && format !== 'dicom') throw new ControlParamsError('format must be nifti or dicom')
      // Absent: the node's keepCopies setting.
      const localCopy = (params as { localCopy?: unknown }).localCopy
      if (localCopy !== undefined && typeof localCopy !== 'boolean') throw new ControlParamsError('localCopy must be a boolean')
      return await client(node, params).getImage(text(params, 'lfn', 128), {
        out: text(params, 'out'), format, ...(localCopy === undefined ? {} : { localCopy }), signal, onProgress: e => { progress(e) }
      })
    }
  }
}
