/**
 * Every file in dicom-samples/malformed, sent (storescu, or our own SCU when
 * storescu refuses to send it) or imported, gets a clear per-file failure;
 * the node keeps serving, the registry holds nothing, no temp file is left.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DicomAssociation, readFileMeta, storeProposal } from './helpers/dicom.js'
import { tempDir } from '../helpers/tmp.js'
import { openDicomEdge, type Edge } from './helpers/edge.js'
import { killAll, runTool } from './helpers/tools.js'

const MALFORMED = fileURLToPath(new URL('../../../shared/dicom-samples/malformed/', import.meta.url))
const FILES = readdirSync(MALFORMED).sort()

/** storescu option proposing the file's own (compressed) syntax, so it really sends it. */
const PROPOSE: Record<string, string> = { '1.2.840.10008.1.2.4.90': '-xv', '1.2.840.10008.1.2.4.70': '-xs' }

describe('malformed input', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let edge: Edge
  const port = (): string => String(edge.scp.port)

  beforeAll(async () => {
    tmp = await tempDir('dm2-malformed-')
    edge = await openDicomEdge({ dir: tmp.path })
  })
  afterAll(async () => {
    await killAll()
    await edge?.close()
    await tmp?.remove()
  })

  it('refuses every malformed file on import, with a reason', async () => {
    expect(FILES).toHaveLength(8)
    for (const f of FILES) {
      const err = await edge.ingestor.importFile(join(MALFORMED, f)).then(() => undefined, (e: unknown) => e as Error)
      expect(err?.name, f).toBe('InvalidDicomError')
      expect(err?.message.length, f).toBeGreaterThan(10)
    }
  })

  it('answers a failure status to each malformed file storescu sends; storescu refuses the rest', async () => {
    let sent = 0
    for (const f of FILES) {
      let ts: string | undefined
      try { ts = readFileMeta(join(MALFORMED, f)).transferSyntaxUid } catch {}
      const option = ts === undefined ? undefined : PROPOSE[ts]
      const r = await runTool('storescu', ['-v', ...(option === undefined ? [] : [option]), '-aec', 'DM2', '127.0.0.1', port(), join(MALFORMED, f)])
      const out = r.stdout + r.stderr
      expect(out, f).not.toMatch(/Received Store Response \(Success\)/)
      if (/Received Store Response/.test(out)) {
        sent++
        expect(out, f).toMatch(/Received Store Response \((Error|Failed|Refused)/)
      } else {
        expect(out, f).toMatch(/^E: /m)
      }
    }
    expect(sent).toBeGreaterThanOrEqual(2)
  })

  it('answers 0xC000 to truncated data sets that storescu would not send', async () => {
    const files = ['pydicom_MR_truncated.dcm', 'pydicom_rtplan_truncated.dcm'].map(f => join(MALFORMED, f))
    const described = files.map(f => ({ path: f, ...describe10(f) }))
    const assoc = await DicomAssociation.open({
      host: '127.0.0.1',
      port: edge.scp.port,
      callingAeTitle: 'TESTSCU',
      calledAeTitle: 'DM2',
      proposal: storeProposal(described),
      connectTimeoutMs: 5000,
      associationTimeoutMs: 5000,
      pduTimeoutMs: 5000,
      maxPduLength: 16384,
      requestTimeoutMs: 5000
    })
    try {
      for (const d of described) {
        await expect(assoc.store(d)).rejects.toMatchObject({ name: 'DicomStatusError', status: 0xc000, comment: expect.stringMatching(/truncated/) })
      }
    } finally {
      await assoc.release()
    }
  })

  it('keeps serving, records nothing and leaves no temp file', async () => {
    expect((await runTool('echoscu', ['-aec', 'DM2', '127.0.0.1', port()])).code).toBe(0)
    expect(await edge.registry.list()).toEqual([])
    expect(await edge.store.temps()).toEqual([])
    expect(await edge.store.list()).toEqual([])
  })
})

function describe10 (path: string): { sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string } {
  const m = readFileMeta(path)
  return { sopClassUid: m.mediaSopClassUid ?? '', sopInstanceUid: m.mediaSopInstanceUid ?? '', transferSyntaxUid: m.transferSyntaxUid }
}
