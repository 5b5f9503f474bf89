/** A node's DICOM edge on a temp dir, composed the way src/node/ will (see src/dicom/standalone.ts). */
import type { ComponentLogger } from '@libp2p/interface'
import { prefixLogger } from '@libp2p/logger'
import { openStandaloneEdge, type DicomOptions, type StandaloneEdge } from '../../../src/dicom/index.js'

export interface EdgeOptions {
  dir: string
  port?: number
  aeTitle?: string
  quietPeriodMs?: number
  options?: DicomOptions
  pacs?: { aeTitle: string, host: string, port: number }
  logger?: ComponentLogger
}

export type Edge = StandaloneEdge & Required<Pick<StandaloneEdge, 'scp'>>

export async function openDicomEdge (o: EdgeOptions): Promise<Edge> {
  const edge = await openStandaloneEdge({
    dataDir: o.dir,
    logger: o.logger ?? prefixLogger('test'),
    aeTitle: o.aeTitle ?? 'DM2',
    scp: { host: '127.0.0.1', port: o.port ?? 0 },
    quietPeriodMs: o.quietPeriodMs ?? 300,
    ...(o.pacs === undefined ? {} : { pacs: o.pacs }),
    ...(o.options === undefined ? {} : { options: o.options })
  })
  if (edge.scp === undefined) throw new Error('SCP not started')
  return edge as Edge
}
