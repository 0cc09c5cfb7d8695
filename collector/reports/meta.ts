import type { Static } from '@sinclair/typebox'
import { FIGURES, helpKey, labelKey } from './figure-registry.js'
import type { ReportRules } from './rules.js'
import type { ReportsMetaSchema } from './schemas.js'

export type ReportsMeta = Static<typeof ReportsMetaSchema>

/** The figure registry with the publication minimums in force, for the dashboard (GET /api/v1/reports/meta). */
export function reportsMeta (rules: ReportRules): ReportsMeta {
  return {
    report: 'meta',
    figures: FIGURES.map((f) => ({
      key: f.key,
      unit: f.unit,
      basis: f.basis,
      minimum: { rule: f.minimum, value: rules[f.minimum] },
      digits: f.digits,
      views: [...f.views],
      labelKey: labelKey(f.key),
      helpKey: helpKey(f.key),
      label: { ...f.label },
      help: { ...f.help }
    }))
  }
}
