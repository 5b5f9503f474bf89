/**
 * Pixel-cleaning rules from a site's JSON file (for `dm2 deid --pixel-rules`):
 *
 * ```json
 * [{ "name": "acme-us-banner",
 *    "match": { "modality": "US", "manufacturer": "ACME", "modelName": "Sono 5", "rows": 600, "columns": 800 },
 *    "rectangles": [{ "x": 0, "y": 0, "width": 800, "height": 40 }] }]
 * ```
 *
 * Every field given under `match` must equal the image's (text compared trimmed, case-insensitive);
 * a rule with an empty `match` would blank every at-risk image and is refused.
 */
import { z } from 'zod'
import { blankRectangles } from './burned-in.js'
import type { ImageDescription, PixelCleaningRule } from './burned-in.js'

const MAX_RULES = 1000

const ruleSchema = z.object({
  name: z.string().min(1).max(64),
  match: z.object({
    modality: z.string().max(16).optional(),
    sopClassUid: z.string().max(64).optional(),
    manufacturer: z.string().max(64).optional(),
    modelName: z.string().max(64).optional(),
    rows: z.number().int().positive().optional(),
    columns: z.number().int().positive().optional()
  }).strict().refine(m => Object.keys(m).length > 0, 'match must name at least one field'),
  rectangles: z.array(z.object({
    x: z.number().int().nonnegative(),
    y: z.number().int().nonnegative(),
    width: z.number().int().positive(),
    height: z.number().int().positive()
  }).strict()).min(1).max(64)
}).strict()

const rulesSchema = z.array(ruleSchema).max(MAX_RULES)

export type PixelRuleSpec = z.infer<typeof ruleSchema>

const same = (a: string, b: string): boolean => a.trim().toUpperCase() === b.trim().toUpperCase()

function matcher (m: PixelRuleSpec['match']): (image: ImageDescription) => boolean {
  return image =>
    (m.modality === undefined || same(m.modality, image.modality)) &&
    (m.sopClassUid === undefined || m.sopClassUid === image.sopClassUid) &&
    (m.manufacturer === undefined || same(m.manufacturer, image.manufacturer)) &&
    (m.modelName === undefined || same(m.modelName, image.modelName)) &&
    (m.rows === undefined || m.rows === image.rows) &&
    (m.columns === undefined || m.columns === image.columns)
}

/** Rules from parsed JSON; throws a zod error naming the offending field when the JSON is wrong. */
export function parsePixelRules (json: unknown): PixelCleaningRule[] {
  return rulesSchema.parse(json).map(spec => blankRectangles({ name: spec.name, match: matcher(spec.match), rectangles: spec.rectangles }))
}
