/**
 * The node's three cache layers (paper §4.4), and a fourth for the copies of
 * images fetched from other hospitals (ciphertext, as their masters sealed
 * them: see getImage), built from one options object: one scratch root with a
 * sub-directory per layer, one LevelDB (sub)level with a sublevel per layer,
 * one logger.
 */
import { join } from 'node:path'
import type { ComponentLogger } from '@libp2p/interface'
import {
  COPIES_NAME, DEFAULT_COPY_BYTES, DEFAULT_IMAGE_BYTES, DEFAULT_RESULT_BYTES, DEFAULT_RESULT_INLINE_BYTES, DEFAULT_RESULT_TTL_MS,
  DEFAULT_SLICE_BYTES, IMAGES_NAME, RESULTS_NAME, SLICES_NAME
} from './constants.js'
import { ImageCache } from './images.js'
import { ResultCache } from './results.js'
import { SliceCache } from './slices.js'
import type { CacheLevel, StoreStats } from './types.js'

/** Budgets and limits; each defaults to the constant of the same name. */
export interface NodeCacheLimits {
  resultBytes?: number
  imageBytes?: number
  sliceBytes?: number
  copyBytes?: number
  /** Largest single image (default: the whole image budget). */
  maxImageBytes?: number
  /** Largest single slice file (default: the whole slice budget). */
  maxSliceBytes?: number
  resultInlineBytes?: number
  resultTtlMs?: number
}

export interface NodeCacheInit {
  /** Scratch root; `results/`, `images/`, `slices/` and `copies/` are made under it. */
  directory: string
  /** The node's database or a sublevel of it; each layer takes a sublevel. */
  level: CacheLevel
  logger: ComponentLogger
  limits?: NodeCacheLimits
}

export interface NodeCacheStats {
  results: StoreStats
  images: StoreStats
  slices: StoreStats
  copies: StoreStats
}

/** The limits a node's configured budgets (`cache.results`, `cache.images`, `cache.copies`) set; each unset one keeps its default. */
export function budgetLimits (budgets: { results?: number, images?: number, copies?: number }): NodeCacheLimits {
  const limits: NodeCacheLimits = {}
  if (budgets.results !== undefined) limits.resultBytes = budgets.results
  if (budgets.images !== undefined) limits.imageBytes = budgets.images
  if (budgets.copies !== undefined) limits.copyBytes = budgets.copies
  return limits
}

export function resolveCacheLimits (limits: NodeCacheLimits = {}): Required<NodeCacheLimits> {
  const imageBytes = limits.imageBytes ?? DEFAULT_IMAGE_BYTES
  const sliceBytes = limits.sliceBytes ?? DEFAULT_SLICE_BYTES
  return {
    resultBytes: limits.resultBytes ?? DEFAULT_RESULT_BYTES,
    imageBytes,
    sliceBytes,
    copyBytes: limits.copyBytes ?? DEFAULT_COPY_BYTES,
    maxImageBytes: limits.maxImageBytes ?? imageBytes,
    maxSliceBytes: limits.maxSliceBytes ?? sliceBytes,
    resultInlineBytes: limits.resultInlineBytes ?? DEFAULT_RESULT_INLINE_BYTES,
    resultTtlMs: limits.resultTtlMs ?? DEFAULT_RESULT_TTL_MS
  }
}

export class NodeCache {
  readonly results: ResultCache
  readonly images: ImageCache
  readonly slices: SliceCache
  /** Copies of images fetched from other hospitals (see the module doc). */
  readonly copies: ImageCache
  readonly limits: Required<NodeCacheLimits>

  constructor (init: NodeCacheInit) {
    const limits = this.limits = resolveCacheLimits(init.limits)
    const layer = (name: string): { directory: string, level: CacheLevel, logger: ComponentLogger } =>
      ({ directory: join(init.directory, name), level: init.level.sublevel(name), logger: init.logger })
    this.results = new ResultCache({
      ...layer(RESULTS_NAME),
      limits: { maxBytes: limits.resultBytes, inlineThreshold: limits.resultInlineBytes, ttlMs: limits.resultTtlMs }
    })
    this.images = new ImageCache({ ...layer(IMAGES_NAME), limits: { maxBytes: limits.imageBytes, maxEntryBytes: limits.maxImageBytes } })
    this.slices = new SliceCache({ ...layer(SLICES_NAME), limits: { maxBytes: limits.sliceBytes, maxEntryBytes: limits.maxSliceBytes } })
    this.copies = new ImageCache({ ...layer(COPIES_NAME), limits: { maxBytes: limits.copyBytes } })
  }

  /** Opens the layers (recovering each); if one fails, the others are closed again. */
  async open (): Promise<void> {
    const layers = [this.results, this.images, this.slices, this.copies]
    const opened: typeof layers = []
    try {
      for (const layer of layers) {
        await layer.open()
        opened.push(layer)
      }
    } catch (err) {
      await Promise.allSettled(opened.map(async layer => { await layer.close() }))
      throw err
    }
  }

  async close (): Promise<void> {
    await Promise.all([this.results.close(), this.images.close(), this.slices.close(), this.copies.close()])
  }

  stats (): NodeCacheStats {
    return { results: this.results.stats(), images: this.images.stats(), slices: this.slices.stats(), copies: this.copies.stats() }
  }
}

/** Factory in the house style: `createNodeCache({ directory, level, logger })`. */
export function createNodeCache (init: NodeCacheInit): NodeCache {
  return new NodeCache(init)
}
