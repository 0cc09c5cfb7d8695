import { Type, type Static, type TNull, type TObject, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox'
import { LEVELS } from '../storage/area-levels.js'
import { CALENDAR_MONTH_PATTERN } from '../../shared/schemas/calendar.js'
import { CELL_BASES, FIGURE_UNITS, FIGURE_VIEWS, FIGURES, type FigureKey } from './figure-registry.js'

/**
 * OpenAPI shapes of the report replies (docs/reports-api.md). Every object allows additional
 * properties so the serializer never drops a field a report adds; the listed ones are the contract.
 */
const Obj = <T extends TProperties>(props: T, description?: string): TObject<T> => Type.Object(props, { additionalProperties: true, ...(description === undefined ? {} : { description }) })
const N = <T extends TSchema>(s: T): TUnion<[T, TNull]> => Type.Union([s, Type.Null()])

export const CellSchema = Obj({
  value: N(Type.Number()),
  n: Type.Integer(),
  minN: Type.Integer(),
  basis: Type.Union(CELL_BASES.map((b) => Type.Literal(b))),
  status: Type.Union(['ok', 'insufficient_data', 'no_data'].map((b) => Type.Literal(b)))
}, 'A published figure: value null below the minimum n (status insufficient_data); n always shown')

export const CoverageSchema = Obj({
  agentsEnrolled: Type.Integer(),
  agentsReporting: Type.Integer(),
  agencies: Type.Integer(),
  results: Type.Integer(),
  speedTests: Type.Integer(),
  validTests: Type.Integer(),
  skipped: Type.Integer(),
  representativeSamples: Type.Integer()
})

/** One cell per figure of the registry (figure-registry.ts), each described by its entry. */
export const FiguresSchema = Obj(Object.fromEntries(FIGURES.map((f) => [f.key, { ...CellSchema, description: `${f.label.en} (${f.unit}, ${f.basis}): ${f.help.en}` }])) as Record<FigureKey, typeof CellSchema>)

export const LeftOutSchema = Obj({
  agents: Type.Integer(),
  agencies: Type.Integer(),
  reasons: Type.Array(Obj({ reason: Type.Union([Type.Literal('category'), Type.Literal('unit_type'), Type.Literal('high_tech_zone'), Type.Literal('local_link')]), value: Type.String(), agents: Type.Integer(), agencies: Type.Integer() }))
}, 'Lines of the right class and area that the target leaves out, by reason: outside its scope (category, 2025 unit type, or high_tech_zone: the agency is in no high-tech zone), or local_link (only results limited by the machine\'s own link, below what the target asks; docs/methodology.md §11); never judged')

export const TargetEvaluationSchema = Obj({
  targetId: Type.String(),
  document: Type.String(),
  issuer: N(Type.String()),
  date: N(Type.String()),
  section: N(Type.String()),
  scope: Type.String(),
  region: N(Obj({ version: Type.String(), code: Type.String() })),
  year: Type.Integer(),
  yearRule: Type.String(),
  horizon: Type.Boolean(),
  status: Type.String({ description: 'the target\'s status in seeds/targets.json' }),
  statistic: Type.String(),
  thresholdMbps: Type.Number(),
  requiredShare: N(Type.Number()),
  line: N(Type.String()),
  appliesTo: Obj({ categories: Type.Array(Type.String()), unitTypes: N(Type.Array(Type.String())), inHighTechZone: Type.Boolean(), words: Type.String() }),
  why: Type.String(),
  agents: Type.Integer(),
  agencies: Type.Integer(),
  leftOut: LeftOutSchema,
  linesAtLeast: Type.Integer({ description: 'Lines judged on a lower bound set by the machine\'s link, each counted as meeting the threshold (docs/methodology.md §11)' }),
  figure: CellSchema,
  exact: N(Type.Number()),
  figureMedian: Type.Optional(CellSchema),
  shareOfAgentsMeeting: CellSchema,
  shareOfAgenciesMeeting: CellSchema,
  shareOfSamplesMeeting: CellSchema,
  attainment: Obj({ atLeast100: N(Type.Integer()), from80to100: N(Type.Integer()), below80: N(Type.Integer()), n: Type.Integer(), status: Type.String() }),
  met: N(Type.Boolean())
})

export const AreaSchema = Obj({ level: Type.String(), version: Type.String(), code: Type.String(), name: Type.String(), fullName: Type.String() })

export const AreaRowSchema = Obj({
  area: AreaSchema,
  split: N(Obj({ by: Type.String(), value: Type.String() })),
  coverage: CoverageSchema,
  figures: FiguresSchema,
  targets: Type.Array(TargetEvaluationSchema)
})

export const PeriodSchema = Obj({ kind: Type.String(), from: N(Type.String()), to: N(Type.String()), months: N(Type.Array(Type.String())) })

export const AreasReportSchema = Obj({
  report: Type.Literal('areas'),
  level: Type.String(),
  version: Type.String(),
  province: N(Obj({ code: Type.String(), name: Type.String(), version: Type.String() })),
  period: PeriodSchema,
  split: N(Type.String()),
  generatedAt: Type.String(),
  rules: Obj({}),
  notes: Type.Array(Type.String()),
  rows: Type.Array(AreaRowSchema)
})
export type AreasReport = Static<typeof AreasReportSchema>

export const DistrictReportSchema = Obj({
  province: Obj({ code: Type.String(), name: Type.String(), version: Type.String() }),
  generatedAt: Type.String(),
  note: Type.String(),
  period: PeriodSchema,
  rules: Obj({}),
  districts: Type.Array(Obj({
    districtCode: Type.String(),
    districtName: Type.String(),
    agents: Type.Integer(),
    results: Type.Integer(),
    validResults: Type.Integer(),
    downloadMeanMbps: N(Type.Number()),
    downloadMedianMbps: N(Type.Number()),
    uploadMeanMbps: N(Type.Number()),
    uploadMedianMbps: N(Type.Number()),
    idleLatencyMedianMs: N(Type.Number()),
    targets: Type.Array(Obj({
      id: Type.String(),
      document: Type.String(),
      year: Type.Integer(),
      statistic: Type.String(),
      thresholdMbps: Type.Number(),
      requiredShare: N(Type.Number()),
      why: Type.String(),
      shareOfLinesMeeting: CellSchema,
      shareOfSamplesMeeting: CellSchema,
      leftOut: LeftOutSchema
    })),
    coverage: CoverageSchema,
    figures: FiguresSchema,
    targetEvaluations: Type.Array(TargetEvaluationSchema)
  }))
})

const ProvinceRef = Obj({ code: Type.String(), name: Type.String(), version: Type.String() })

export const OverviewReportSchema = Obj({
  report: Type.Literal('overview'),
  province: N(ProvinceRef),
  period: PeriodSchema,
  generatedAt: Type.String(),
  rules: Obj({}),
  notes: Type.Array(Type.String()),
  total: AreaRowSchema,
  byConnectionClass: Type.Array(AreaRowSchema),
  targets: Type.Array(TargetEvaluationSchema),
  lagging: Type.Array(Obj({
    area: AreaSchema,
    targetId: Type.String(),
    document: Type.String(),
    statistic: Type.String(),
    figure: CellSchema,
    thresholdMbps: Type.Number(),
    requiredShare: N(Type.Number())
  }), { description: 'Sub-areas whose published target figure is not met (horizon targets aside)' }),
  consistentSpeed: Obj({
    peakPeriod: Obj({ band: Type.String(), label: Type.String() }),
    tiers: Type.Array(Obj({
      isp: Type.String(),
      connectionClass: Type.String(),
      planDownMbps: Type.Number(),
      agents: Type.Integer(),
      agentsInTier: Type.Integer(),
      shareOfPlan: CellSchema,
      mbps: CellSchema
    })),
    withoutPlan: Type.Integer()
  }, 'FCC MBA 80/80 per ISP and plan tier, as a share of the plan speed over the peak period'),
  agencies: Obj({ enrolled: Type.Integer(), reporting: Type.Integer() }),
  months: Type.Array(Obj({ month: Type.String(), downloadMedian: CellSchema, downloadMean: CellSchema, agentsReporting: Type.Integer() }))
})
export type OverviewReport = Static<typeof OverviewReportSchema>

const SplitRef = N(Obj({ by: Type.String(), value: Type.String() }))

export const TrendReportSchema = Obj({
  report: Type.Literal('trend'),
  area: N(AreaSchema),
  months: Type.Array(Type.String()),
  split: N(Type.String()),
  rules: Obj({}),
  series: Type.Array(Obj({
    split: SplitRef,
    points: Type.Array(Obj({ month: Type.String(), coverage: N(CoverageSchema), figures: N(FiguresSchema) }), { description: 'One per month, oldest first; null coverage and figures in a month the split value has no row' })
  }))
})
export type TrendReport = Static<typeof TrendReportSchema>

export const DistributionReportSchema = Obj({
  report: Type.Literal('distribution'),
  area: N(AreaSchema),
  period: PeriodSchema,
  metric: Type.Union([Type.Literal('download'), Type.Literal('upload')]),
  connectionClass: N(Type.String()),
  basis: Type.Literal('representative_samples'),
  n: Type.Integer(),
  bins: Type.Array(Obj({ fromMbps: Type.Number(), toMbps: N(Type.Number()), count: Type.Integer(), share: N(Type.Number()) })),
  targets: Type.Array(Obj({ targetId: Type.String(), document: Type.String(), thresholdMbps: Type.Number(), horizon: Type.Boolean() }))
})
export type DistributionReport = Static<typeof DistributionReportSchema>

const PlaceRef = N(Obj({ code: Type.String(), name: Type.String(), version: Type.String() }))
const NumOrNull = N(Type.Number())
/** Indicative QCVN checks of one line, on whole-transfer samples (docs/reports-api.md). */
export const Qcvn34Schema = Obj({
  agentId: Type.String(),
  applies: Type.Boolean(),
  planDownMbps: NumOrNull,
  planUpMbps: NumOrNull,
  tests: Type.Integer(),
  testsUp: Type.Integer(),
  enoughTests: Type.Boolean(),
  sampleDefinition: Type.Literal('whole_transfer'),
  meanDownMbps: NumOrNull,
  meanUpMbps: NumOrNull,
  meanDownExact: NumOrNull,
  meanUpExact: NumOrNull,
  steadyStateMeanDownMbps: NumOrNull,
  steadyStateMeanUpMbps: NumOrNull,
  requiredDownMbps: NumOrNull,
  requiredUpMbps: NumOrNull,
  pass: N(Type.Boolean()),
  indicative: Type.Literal(true),
  why: Type.String()
})
export const Qcvn126Schema = Obj({
  agentId: Type.String(),
  applies: Type.Boolean(),
  tests: Type.Integer(),
  sampleDefinition: Type.Literal('whole_transfer'),
  meanDownMbps: NumOrNull,
  meanUpMbps: NumOrNull,
  steadyStateMeanDownMbps: NumOrNull,
  shareDownAtLeast30: NumOrNull,
  meanLatencyMs: NumOrNull,
  pass: N(Type.Boolean()),
  indicative: Type.Literal(true),
  why: Type.String()
})

export const AgencyReportSchema = Obj({
  report: Type.Literal('agency'),
  agency: Obj({
    id: Type.String(),
    name: Type.String(),
    category: Type.String(),
    connectionClass: Type.String(),
    isp: Type.String(),
    planDownMbps: N(Type.Number()),
    planUpMbps: N(Type.Number()),
    placement: Obj({ commune: PlaceRef, province: PlaceRef, legacyCommune: PlaceRef, legacyDistrict: PlaceRef, legacyProvince: PlaceRef, note: N(Type.String()) })
  }),
  period: PeriodSchema,
  generatedAt: Type.String(),
  rules: Obj({}),
  coverage: CoverageSchema,
  figures: FiguresSchema,
  agents: Type.Array(Obj({
    id: Type.String({ description: 'the first 8 characters without the admin token' }),
    name: Type.Optional(Type.String({ description: 'the machine name, with the admin token only' })),
    status: Type.String(),
    lastSeenAt: N(Type.String()),
    agentVersion: N(Type.String()),
    coverage: Obj({}),
    figures: FiguresSchema
  }, 'One line\'s own figures, published from n = 1 with n beside each')),
  recentResults: Type.Array(Obj({
    agentId: Type.String(),
    resultId: Type.String(),
    kind: Type.String(),
    status: Type.String(),
    measuredAt: Type.String(),
    downloadMbps: N(Type.Number()),
    uploadMbps: N(Type.Number()),
    idleLatencyMs: N(Type.Number()),
    valid: Type.Boolean(),
    flags: Type.Array(Type.String()),
    confidence: N(Type.String())
  })),
  setApart: Obj({ wifi: Type.Integer(), vpn: Type.Integer(), results: Type.Integer() },
    'Speed results of the period measured over Wi-Fi or through a VPN: never in figures or compliance checks (they measure the machine\'s radio or tunnel, not the line; docs/methodology.md §11), counted apart'),
  targets: Type.Array(TargetEvaluationSchema),
  qcvn34: Type.Array(Qcvn34Schema),
  qcvn126: Type.Array(Qcvn126Schema)
})
export type AgencyReport = Static<typeof AgencyReportSchema>

const Words = Type.Object({ vi: Type.String(), en: Type.String() })

/** GET /api/v1/reports/meta: the figure registry as the dashboard reads it. */
export const ReportsMetaSchema = Type.Object({
  report: Type.Literal('meta'),
  figures: Type.Array(Type.Object({
    key: Type.String(),
    unit: Type.Union(FIGURE_UNITS.map((u) => Type.Literal(u))),
    basis: Type.Union(CELL_BASES.map((b) => Type.Literal(b))),
    minimum: Type.Object({ rule: Type.String({ description: 'the report rule whose value n must reach for the value to be published' }), value: Type.Integer() }),
    digits: Type.Integer(),
    views: Type.Array(Type.Union(FIGURE_VIEWS.map((v) => Type.Literal(v))), { description: 'headline: overview cards, area table, official report; byClass: overview by connection class; agent: figures per line' }),
    labelKey: Type.String(),
    helpKey: Type.String(),
    label: Words,
    help: Words
  }), { description: 'Every figure of an area row, in display order' })
}, { description: 'The figures the reports compute: key, unit, basis, publication rule and names (docs/reports-api.md)' })

const VerdictSchema = Type.Union([Type.Literal('met'), Type.Literal('close'), Type.Literal('far'), Type.Literal('na')], { description: 'met; close (within 80 % of what is required); far; na (not publishable)' })
const Str = Type.String()
const NStr = N(Type.String())
const Int = Type.Integer()
const OfficialFigure = Obj({ key: Str, name: Str, unit: Str, value: NumOrNull, n: Int, minN: Int, status: Str, text: Type.String({ description: 'as both documents print it' }) })

export const OfficialReportSchema = Obj({
  report: Type.Literal('official'),
  sample: Type.Boolean(),
  header: Obj({ parentBody: Str, issuingBody: Str, place: Str }),
  title: Str,
  subtitle: Str,
  area: Obj({ version: Str, code: Str, name: Str, kind: Str }),
  period: Obj({ kind: Str, from: NStr, to: NStr, months: N(Type.Array(Str)), text: Str }),
  generatedAt: Str,
  coverage: Obj({ agentsEnrolled: Int, agentsReporting: Int, agenciesEnrolled: Int, agenciesReporting: Int, validTests: Int, representativeSamples: Int, setApart: Int, text: Str }),
  headline: Type.Array(OfficialFigure),
  targets: Type.Array(Obj({
    targetId: Str,
    document: Str,
    issuer: NStr,
    date: NStr,
    year: Int,
    rule: Str,
    thresholdMbps: Type.Number(),
    scope: Str,
    yearRule: Str,
    horizon: Type.Boolean(),
    figureText: Str,
    value: NumOrNull,
    n: Int,
    minN: Int,
    verdict: VerdictSchema,
    verdictText: Str,
    leftOut: Str
  })),
  subAreas: Obj({
    level: Str,
    columns: Type.Array(Obj({ targetId: Str, label: Str })),
    rows: Type.Array(Obj({
      code: Str,
      name: Str,
      agentsReporting: Int,
      agentsEnrolled: Int,
      downloadMean: OfficialFigure,
      downloadMedian: OfficialFigure,
      targets: Type.Array(N(Obj({ targetId: Str, text: Str, verdict: VerdictSchema })))
    }))
  }),
  trend: Type.Array(Obj({ month: Str, label: Str, mean: OfficialFigure, median: OfficialFigure })),
  consistentSpeed: Obj({ note: Str, tiers: Type.Array(Obj({ isp: Str, connectionClass: Str, tier: Str, shareText: Str, mbpsText: Str, lines: Str })) }),
  ipv6: Obj({ agencies: Int, known: Int, readyShareText: Str, levels: Type.Array(Obj({ name: Str, count: Int })), targets: Type.Array(Obj({ document: Str, year: Int, text: Str, verdict: VerdictSchema })) }),
  method: Type.Array(Str),
  allTargets: Type.Array(Obj({ document: Str, issuer: NStr, date: NStr, section: NStr, year: N(Int), rule: Str, scope: Str, status: Str, evaluated: Str })),
  knownGaps: Type.Array(Obj({ document: Str, issuer: NStr, date: NStr, why: Str }))
}, 'The official report of a province for a period: what the .docx and the PDF print, every number also as printed (docs/official-report.md)')

export const ErrorSchema = Obj({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) })

// Query strings
export const LevelParam = Type.Union(LEVELS.map((l) => Type.Literal(l)), { description: 'legacy_* use 2025-03 codes; commune/province use 2025-07 codes' })
export const SplitParam = Type.Union(['connection_class', 'isp', 'time_band'].map((l) => Type.Literal(l)))
export const FormatParam = Type.Union(['json', 'csv', 'xlsx'].map((l) => Type.Literal(l)), { default: 'json' })
export const ProvinceParam = Type.String({ pattern: '^[0-9]{2}$', description: 'Province code in the level\'s geography version, e.g. 62 (Kon Tum, 2025-03) or 51 (Quảng Ngãi, 2025-07)' })
export const AreaCodeParam = Type.String({ pattern: '^[0-9]{2,5}$', description: 'Area code at the level: 2-digit province, 3-digit old district, 5-digit commune' })
export const PeriodParam = Type.String({ pattern: `^(${CALENDAR_MONTH_PATTERN.slice(1, -1)}|rolling12|all)$`, description: 'YYYY-MM (one ICT month, 1970-01 to 2199-12), rolling12 (12 months to end) or all' })
export const EndParam = Type.String({ pattern: CALENDAR_MONTH_PATTERN, description: 'last month of rolling12, YYYY-MM (1970-01 to 2199-12); default this month (ICT)' })
