/**
 * `dm2 similar`, `dm2 annotate`, `dm2 features`: options are checked before
 * anything is sent, and results print as a table with what was missing.
 * (Against a running node: test/integration/similarity.test.ts.)
 */
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import type { SimilarResult } from '../../src/api/similar.js'
import { formatSimilar, registerSimilarity } from '../../src/cli/similarity.js'

function program (): Command {
  const p = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerSimilarity(p)
  return p
}

describe('dm2 similar / annotate / features', () => {
  it('refuses a bad measure, a bad --top, and a missing key or diagnosis, before contacting any node', async () => {
    const run = async (args: string[]): Promise<unknown> => await program().parseAsync(args, { from: 'user' }).catch((e: unknown) => e)
    expect(await run(['similar', 'lfn-1', '--key', 'k', '--measure', 'ssd'])).toMatchObject({ code: 'commander.invalidArgument' })
    expect(await run(['similar', 'lfn-1', '--key', 'k', '--top', '101'])).toMatchObject({ code: 'commander.invalidArgument' })
    expect(await run(['similar', 'lfn-1', '--key', 'k', '--top', '0'])).toMatchObject({ code: 'commander.invalidArgument' })
    expect(await run(['similar', 'lfn-1'])).toMatchObject({ code: 'commander.missingMandatoryOptionValue' })
    expect(await run(['annotate', 'lfn-1', '--key', 'k'])).toMatchObject({ code: 'commander.missingMandatoryOptionValue' })
    const help = program().commands.map(c => c.name())
    expect(help).toEqual(['similar', 'annotate', 'features'])
  })

  it('prints results best first, with diagnoses, partial sites and the where narrowing', () => {
    const r: SimilarResult = {
      query: { lfn: 'lfn-q', modality: 'CT', bodyPart: 'HEART' },
      results: [
        { lfn: 'lfn-1', score: 0.98765, site: '12D3KooWAAAAAAAAsiteA001', modality: 'CT', bodyPart: 'HEART', diagnosis: 'dilated cardiomyopathy' },
        { lfn: 'lfn-2', score: 0.5, site: '12D3KooWBBBBBBBBsiteB002', modality: 'CT', bodyPart: 'HEART' }
      ],
      partial: [{ site: '12D3KooWCCCCCCCCsiteC003', reason: 'TIMEOUT' }],
      where: { matched: 7, truncated: false, partial: [] }
    }
    const lines = formatSimilar(r).split('\n')
    expect(lines[0]).toMatch(/^#\s+score\s+lfn\s+site\s+modality\s+bodyPart\s+diagnosis/)
    expect(lines[1]).toMatch(/^1\s+0\.9877\s+lfn-1\s+siteA001\s+CT\s+HEART\s+dilated cardiomyopathy/)
    expect(lines[2]).toMatch(/^2\s+0\.5000\s+lfn-2\s+siteB002/)
    expect(lines.at(-1)).toBe('2 series like lfn-q (CT HEART); partial: no answer from siteC003 (TIMEOUT); where: 7 series matched')
  })
})
