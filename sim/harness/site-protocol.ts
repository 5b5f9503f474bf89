/**
 * The messages between the orchestrator and a site process (worker.ts), and
 * how a site is opened and commanded — shared by both sides, and by sites run
 * in the orchestrator's own process.
 */
import type { HospitalSite, SiteInit } from './hospital-site.js'
import type { NetworkInit, NetworkSite } from './network-site.js'
import type { PacsSite, PacsInit } from './pacs-site.js'

export type WorkerInit =
  | { kind: 'hospital', init: SiteInit }
  | { kind: 'pacs', init: PacsInit }
  | { kind: 'network', init: NetworkInit }

export type ToWorker =
  | { type: 'init', worker: WorkerInit, address: string }
  | { type: 'call', id: number, command: string, args: unknown }
  | { type: 'stop' }

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed', name: string, message: string }
  | { type: 'result', id: number, ok: true, value: unknown }
  | { type: 'result', id: number, ok: false, name: string, message: string }

export type Opened = (HospitalSite | PacsSite | NetworkSite) & { close: () => Promise<void> }

/** Opens what the init names; a PACS process loads only the DICOM edge, not the whole node (it starts faster). */
export async function openWorker (w: WorkerInit): Promise<Opened> {
  if (w.kind === 'hospital') return await (await import('./hospital-site.js')).HospitalSite.open(w.init)
  if (w.kind === 'network') return await (await import('./network-site.js')).NetworkSite.open(w.init)
  return await (await import('./pacs-site.js')).PacsSite.open(w.init)
}

/** Runs one named command of an opened site. */
export async function runCommand (s: Opened, command: string, args: unknown): Promise<unknown> {
  const fn = (s as unknown as Record<string, unknown>)[command]
  if (typeof fn !== 'function' || command === 'close' || command === 'constructor') throw new TypeError(`no command ${command}`)
  return await (fn as (a: unknown) => Promise<unknown>)(args)
}
