/**
 * One hospital of the similarity bench in its own process:
 * `node --import tsx bench/lib/similarity-site.ts '<SiteInit JSON>'`, started
 * by similarity-federation.ts. Starts its node, fills its index with its
 * share of the bench's series, says `ready`, and stops when told to, or as
 * soon as its parent is gone.
 */
import '../../src/polyfill.js'
import type { HospitalNode } from '../../src/node/index.js'
import { benchBases, benchSeries } from './similarity-data.js'
import { benchNode, fillSite, type SiteInit } from './similarity-federation.js'

const init = JSON.parse(process.argv[2] ?? '{}') as SiteInit
let node: HospitalNode | undefined
let leaving: Promise<void> | undefined

async function leave (code: number): Promise<void> {
  leaving ??= (async () => {
    await node?.stop().catch(() => {})
    process.exit(code)
  })()
  await leaving
}

process.on('message', (m: { type?: string }) => { if (m.type === 'stop') leave(0).catch(() => {}) })
process.on('disconnect', () => { leave(0).catch(() => {}) })

try {
  node = await benchNode(init)
  const bases = benchBases()
  const size = await fillSite(node, init, i => benchSeries(bases, i))
  process.send?.({ type: 'ready', size, addresses: node.getMultiaddrs().map(a => a.toString()) })
} catch (err) {
  process.send?.({ type: 'failed', message: (err as Error).message })
  await leave(1)
}
