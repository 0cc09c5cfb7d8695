import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ReportStores } from './rollup-reader.js'
import { seedsDir } from '../paths.js'
import { loadTargetEntries, PER_LINE_STATISTICS, type TargetEntry } from '../targets/targets.js'
import { overviewReport } from './overview.js'
import { areaRows, type AreaRow } from './areas-report.js'
import { AREA_LEVELS, VERSION_LEVELS, type GeoVersion } from '../storage/area-levels.js'
import { ipv6Report } from '../ipv6/report.js'
import type { Stores } from '../storage/stores.js'
import type { Cell, TargetEvaluation } from './figures.js'
import { figuresIn } from './figure-registry.js'
import { FIGURE_UNIT_VI, FIGURE_VI, STATUS_VI, VALUE_VI, leftOutVi, levelNotesVi, scopeVi, targetRuleVi, yearRuleVi } from './labels-vi.js'
import { periodBounds, periodYear, type Period } from '../../shared/period.js'
import type { ReportRules } from './rules.js'
import type { Mba8080 } from './mba8080.js'
import type { Static } from '@sinclair/typebox'
import type { OfficialReportSchema } from './schemas.js'

/**
 * The official report of a province for a period (docs/official-report.md): everything the
 * .docx and the PDF print, as data, with every number already written the way both documents
 * write it (`text`), so a test can check that the documents say exactly what the API says.
 */

export type Verdict = 'met' | 'close' | 'far' | 'na'

export interface Figure { key: string, name: string, unit: string, value: number | null, n: number, minN: number, status: Cell['status'], text: string }

export interface TargetLine {
  targetId: string
  document: string
  issuer: string | null
  date: string | null
  year: number
  rule: string
  /** The speed the target's rule names (Mb/s): the charts draw it as the target line. */
  thresholdMbps: number
  scope: string
  yearRule: string
  horizon: boolean
  /** The judged figure as printed ("60 %", "1.090,5 Mb/s", or "chưa đủ dữ liệu (n = 3 < 5)"). */
  figureText: string
  value: number | null
  n: number
  minN: number
  verdict: Verdict
  verdictText: string
  leftOut: string
}

export interface AreaLine {
  code: string
  name: string
  agentsReporting: number
  agentsEnrolled: number
  downloadMean: Figure
  downloadMedian: Figure
  /** One cell per current (non-horizon) target of the report's headline, in `targetColumns` order. */
  targets: Array<{ targetId: string, text: string, verdict: Verdict } | null>
}

export interface ListedTarget { document: string, issuer: string | null, date: string | null, section: string | null, year: number | null, rule: string, scope: string, status: string, evaluated: string }

export interface OfficialReport {
  report: 'official'
  sample: boolean
  header: { parentBody: string, issuingBody: string, place: string }
  title: string
  subtitle: string
  area: { version: GeoVersion, code: string, name: string, kind: string }
  period: Period & { text: string }
  generatedAt: string
  /** setApart: speed results over Wi-Fi or through a VPN, never counted (docs/methodology.md §11). */
  coverage: { agentsEnrolled: number, agentsReporting: number, agenciesEnrolled: number, agenciesReporting: number, validTests: number, representativeSamples: number, setApart: number, text: string }
  headline: Figure[]
  targets: TargetLine[]
  subAreas: { level: string, columns: Array<{ targetId: string, label: string }>, rows: AreaLine[] }
  trend: Array<{ month: string, label: string, mean: Figure, median: Figure }>
  /** FCC MBA's 80/80 per ISP and plan tier, as a share of the plan over the peak period. */
  consistentSpeed: { note: string, tiers: Array<{ isp: string, connectionClass: string, tier: string, shareText: string, mbpsText: string, lines: string }> }
  ipv6: { agencies: number, known: number, readyShareText: string, levels: Array<{ name: string, count: number }>, targets: Array<{ document: string, year: number, text: string, verdict: Verdict }> }
  method: string[]
  allTargets: ListedTarget[]
  knownGaps: Array<{ document: string, issuer: string | null, date: string | null, why: string }>
}

// The reply is served through OfficialReportSchema (reports/schemas.ts); this fails to compile
// when the report and its schema part ways.
const CONTRACT: OfficialReport extends Static<typeof OfficialReportSchema> ? true : never = true
void CONTRACT

const NUMBER = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 })
const INTEGER = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 0 })

/** How both documents write a number: Vietnamese grouping and decimal comma, one decimal. */
/** Every line left out was left out for the machine's link (docs/methodology.md §11), none for scope. */
function onlyLinkLimited (e: TargetEvaluation): boolean {
  return e.leftOut.reasons.length > 0 && e.leftOut.reasons.every((r) => r.reason === 'local_link')
}

export function numberVi (v: number, digits = 1): string {
  return (digits === 0 ? INTEGER : NUMBER).format(v)
}

export function shareVi (v: number): string {
  return `${numberVi(v * 100, 1)} %`
}

function figure (key: keyof typeof FIGURE_VI, c: Cell): Figure {
  const unit = FIGURE_UNIT_VI[key]
  return { key, name: FIGURE_VI[key], unit, value: c.value, n: c.n, minN: c.minN, status: c.status, text: cellText(c, unit) }
}

function cellText (c: Cell, unit: string): string {
  if (c.status === 'ok' && c.value !== null) return unit === '' ? shareVi(c.value) : `${numberVi(c.value)} ${unit}`
  if (c.status === 'no_data') return STATUS_VI.no_data
  return `${STATUS_VI.insufficient_data} (n = ${numberVi(c.n, 0)} < ${numberVi(c.minN, 0)})`
}

const isShare = (statistic: string): boolean => statistic.startsWith('share_of')

/** Colour of a verdict, as the dashboard's legend: met; within 80 % of what is required; further; not publishable. */
export function verdictOf (e: TargetEvaluation): Verdict {
  if (e.horizon) return e.met === true ? 'met' : 'na'
  if (e.met === null || e.exact === null) return 'na'
  if (e.met) return 'met'
  const required = isShare(e.statistic) ? (e.requiredShare ?? 1) : e.thresholdMbps
  return required > 0 && e.exact / required >= 0.8 ? 'close' : 'far'
}

export const VERDICT_VI: Record<Verdict, string> = { met: 'Đạt', close: 'Gần đạt', far: 'Chưa đạt', na: 'Chưa đủ dữ liệu' }

function targetLine (e: TargetEvaluation): TargetLine {
  const verdict = verdictOf(e)
  return {
    targetId: e.targetId,
    document: e.document,
    issuer: e.issuer,
    date: e.date,
    year: e.year,
    rule: targetRuleVi(e),
    thresholdMbps: e.thresholdMbps,
    scope: scopeVi(e.appliesTo.categories, e.appliesTo.unitTypes, e.appliesTo.inHighTechZone),
    yearRule: yearRuleVi(e),
    horizon: e.horizon,
    figureText: cellText(e.figure, isShare(e.statistic) ? '' : 'Mb/s'),
    value: e.figure.value,
    n: e.figure.n,
    minN: e.figure.minN,
    verdict,
    verdictText: e.horizon ? `Mốc ${e.year}, tham khảo` : e.figure.n === 0 && e.leftOut.agents > 0 ? (onlyLinkLimited(e) ? 'Không đánh giá được: giới hạn bởi card mạng của máy đo' : 'Không có đường truyền thuộc đối tượng') : VERDICT_VI[verdict],
    leftOut: leftOutVi(e)
  }
}

function periodText (p: Period): string {
  if (p.kind === 'all') return 'toàn bộ dữ liệu đã thu thập'
  if (p.kind === 'month') return `tháng ${(p.from ?? '').split('-').reverse().join('/')}`
  return `12 tháng, từ tháng ${(p.from ?? '').split('-').reverse().join('/')} đến tháng ${(p.to ?? '').split('-').reverse().join('/')}`
}

interface Seeds { knownGaps?: Array<{ document: string, issuer?: string, date?: string | null, why: string, region?: { code: string } | null }> }

export interface OfficialQuery { province: string, version: GeoVersion, period: Period, rules: ReportRules, departmentName: string, sample?: boolean, now?: number }

/** The official report of one province (current or former) for one period. */
export async function officialReport (stores: ReportStores & Pick<Stores, 'ipv6'>, q: OfficialQuery): Promise<OfficialReport> {
  const ov = await overviewReport(stores, { province: q.province, version: q.version, period: q.period, rules: q.rules, now: q.now }) as {
    province: { code: string, name: string }, total: AreaRow, agencies: { enrolled: number, reporting: number }, months: Array<{ month: string, downloadMean: Cell, downloadMedian: Cell }>, consistentSpeed: Mba8080
  }
  const { province: provinceLevel, area: subLevel } = VERSION_LEVELS[q.version]
  const legacy = AREA_LEVELS[provinceLevel].legacy
  const sub = (await areaRows(stores, { level: subLevel, province: q.province, period: q.period, rules: q.rules, now: q.now })).rows
  const total = ov.total
  const current = total.targets.filter((t) => !t.horizon)
  const columns = current.map((t) => ({ targetId: t.targetId, label: `${t.document} (${t.year})` }))

  // The province that issues the report now: a former province reports under the merged one.
  const issuingProvince = legacy
    ? (await stores.geo.provinceSuccessor(q.province))?.name
    : ov.province.name
  const kind = legacy ? `tỉnh cũ ${ov.province.name} (địa giới trước 01/07/2025, vùng phân tích)` : `tỉnh ${ov.province.name}`

  const year = periodYear(q.period, q.now)
  const apart = await stores.rollups.setApartInProvince(q.province, legacy, periodBounds(q.period))
  const setApart = apart.wifi + apart.vpn
  const v6 = (await ipv6Report(stores, { level: provinceLevel, province: q.province, period: q.period.to ?? undefined, now: q.now })).areas[0]
  const known = v6 === undefined ? 0 : v6.agencies - v6.levels.unknown.count

  const seeds = JSON.parse(readFileSync(join(seedsDir(), 'targets.json'), 'utf8')) as Seeds
  const legacyCodes = legacy ? [q.province] : await stores.geo.provincePredecessors(q.province)

  return {
    report: 'official',
    sample: q.sample ?? false,
    header: {
      parentBody: issuingProvince === undefined ? '' : `ỦY BAN NHÂN DÂN TỈNH ${issuingProvince.toLocaleUpperCase('vi')}`,
      issuingBody: q.departmentName.toLocaleUpperCase('vi'),
      place: issuingProvince ?? ov.province.name
    },
    title: 'BÁO CÁO',
    subtitle: `Kết quả đo tốc độ truy cập Internet băng rộng của các cơ quan nhà nước trên địa bàn ${kind}, ${periodText(q.period)}`,
    area: { version: q.version, code: q.province, name: ov.province.name, kind },
    period: { ...q.period, text: periodText(q.period) },
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    coverage: {
      agentsEnrolled: total.coverage.agentsEnrolled,
      agentsReporting: total.coverage.agentsReporting,
      agenciesEnrolled: ov.agencies.enrolled,
      agenciesReporting: ov.agencies.reporting,
      validTests: total.coverage.validTests,
      representativeSamples: total.coverage.representativeSamples,
      setApart,
      text: `${numberVi(total.coverage.agentsReporting, 0)}/${numberVi(total.coverage.agentsEnrolled, 0)} máy đo có kết quả; ${numberVi(ov.agencies.reporting, 0)}/${numberVi(ov.agencies.enrolled, 0)} cơ quan; ${numberVi(total.coverage.validTests, 0)} lần đo hợp lệ; ${numberVi(total.coverage.representativeSamples, 0)} mẫu đại diện` +
        (setApart === 0 ? '' : `; ${numberVi(setApart, 0)} kết quả qua Wi-Fi/VPN, không tính (đo kết nối Wi-Fi hoặc đường hầm VPN của máy đo, không phải đường truyền)`)
    },
    headline: figuresIn('headline').map((k) => figure(k, total.figures[k])),
    targets: total.targets.map(targetLine),
    subAreas: {
      level: legacy ? 'Huyện cũ – vùng phân tích' : 'Xã / phường / đặc khu',
      columns,
      rows: sub.filter((r) => r.coverage.agentsEnrolled > 0 || r.coverage.results > 0).map((r) => ({
        code: r.area.code,
        name: r.area.name,
        agentsReporting: r.coverage.agentsReporting,
        agentsEnrolled: r.coverage.agentsEnrolled,
        downloadMean: figure('downloadMean', r.figures.downloadMean),
        downloadMedian: figure('downloadMedian', r.figures.downloadMedian),
        targets: columns.map((c) => {
          const e = r.targets.find((t) => t.targetId === c.targetId)
          if (e === undefined) return null
          const line = targetLine(e)
          return { targetId: c.targetId, text: e.figure.n === 0 && e.leftOut.agents > 0 ? (onlyLinkLimited(e) ? 'giới hạn bởi card mạng máy đo' : 'ngoài đối tượng') : line.figureText, verdict: line.verdict }
        })
      }))
    },
    trend: ov.months.map((m) => ({ month: m.month, label: m.month.split('-').reverse().join('/'), mean: figure('downloadMean', m.downloadMean), median: figure('downloadMedian', m.downloadMedian) })),
    consistentSpeed: {
      note: `Mỗi đường truyền: mức tốc độ đạt được ít nhất 80 % thời gian giờ cao điểm (giờ hành chính, thứ Hai – thứ Sáu 08:00–11:30 và 13:30–17:00) chia cho tốc độ gói cước; mỗi nhà mạng và gói cước: mức mà 80 % đường truyền đạt được (cách FCC MBA). ${numberVi(ov.consistentSpeed.withoutPlan, 0)} đường truyền chưa khai báo gói cước không được tính. Chỉ số "${FIGURE_VI.busyHour8080}" ở mục II là số tuyệt đối trên mọi đường truyền.`,
      tiers: ov.consistentSpeed.tiers.map((x) => ({
        isp: x.isp,
        connectionClass: VALUE_VI[x.connectionClass] ?? x.connectionClass,
        tier: `${numberVi(x.planDownMbps, 0)} Mb/s`,
        shareText: cellText(x.shareOfPlan, ''),
        mbpsText: cellText(x.mbps, 'Mb/s'),
        lines: `${numberVi(x.agents, 0)}/${numberVi(x.agentsInTier, 0)}`
      }))
    },
    ipv6: {
      agencies: v6?.agencies ?? 0,
      known,
      readyShareText: v6 === undefined || known === 0 ? STATUS_VI.insufficient_data : shareVi(v6.readyShare),
      levels: v6 === undefined
        ? []
        : ([['ready_plus', 'Sẵn sàng+'], ['ready', 'Sẵn sàng'], ['partial', 'Một phần'], ['none', 'Chưa có'], ['unknown', 'Chưa rõ']] as const).map(([k, name]) => ({ name, count: v6.levels[k].count })),
      targets: (v6?.targets ?? []).map((t) => {
        const unknown = known === 0
        const verdict: Verdict = unknown || t.met === null ? 'na' : t.met ? 'met' : 'far'
        return { document: t.document, year: t.year, text: t.measuredShare === null ? 'tocdo không đo' : unknown ? STATUS_VI.insufficient_data : `${shareVi(t.measuredShare)} / ${shareVi(t.requiredShare ?? 1)}`, verdict }
      })
    },
    method: [
      ...levelNotesVi(provinceLevel),
      `Ngưỡng công bố: ≥ ${numberVi(q.rules.minRepresentativeSamples, 0)} mẫu đại diện cho trung bình, trung vị và chỉ tiêu trung bình địa bàn (cách tính của i-Speed); ≥ ${numberVi(q.rules.minAgents, 0)} máy đo cho các tỷ lệ theo máy đo; ≥ ${numberVi(q.rules.minBusyHourSamplesPerAgent, 0)} mẫu đại diện giờ hành chính mỗi máy đo cho chỉ số 80/80.`,
      'Chỉ tiêu tỷ lệ đường truyền: tỷ lệ máy đo (đường truyền) thuộc đối tượng của chỉ tiêu có tốc độ tải xuống trung bình đạt ngưỡng; với chỉ tiêu nêu mức tối thiểu (khu công nghệ cao), mẫu đại diện thấp nhất của đường truyền trong kỳ phải đạt ngưỡng. Chỉ tiêu tốc độ trung bình của địa bàn: trung bình các mẫu đại diện của các đường truyền thuộc đối tượng, tách riêng cố định và di động. Kết luận so trên số chưa làm tròn.',
      'Đối tượng của chỉ tiêu lấy từ dữ liệu cơ quan (loại cơ quan) và loại đơn vị hành chính năm 2025 của xã (phường, xã, đặc khu); đường truyền ngoài đối tượng không được tính và được nêu số lượng, lý do.',
      `Năm chỉ tiêu: năm của tháng cuối kỳ báo cáo (${year}); nếu văn bản không nêu năm đó thì dùng năm gần nhất trước đó.`,
      'Kết quả đo qua Wi-Fi hoặc qua VPN không được tính vào số liệu, chỉ tiêu và quy chuẩn (chúng đo kết nối Wi-Fi hoặc đường hầm VPN của máy đo, không phải đường truyền); số lượng được nêu riêng ở mục I.',
      'Kiểm tra QCVN 34:2022/BTTTT và QCVN 126:2021/BTTTT theo từng đường truyền trên trang cơ quan chỉ mang tính tham khảo: mẫu là số byte của cả lần truyền chia thời gian truyền, như quy chuẩn định nghĩa.'
    ],
    allTargets: listTargets(await loadTargetEntries(stores.geo), legacyCodes, new Set(total.targets.map((t) => t.targetId))),
    knownGaps: (seeds.knownGaps ?? []).filter((g) => g.region === undefined || g.region === null || legacyCodes.includes(g.region.code))
      .map((g) => ({ document: g.document, issuer: g.issuer ?? null, date: g.date ?? null, why: 'Văn bản được dẫn nhưng chưa có toàn văn để trích chỉ tiêu; chưa đưa vào đánh giá.' }))
  }
}

/** Every target that bears on the province, evaluated here or not, with its document and why not. */
function listTargets (entries: readonly TargetEntry[], legacyCodes: readonly string[], evaluatedIds: ReadonlySet<string>): ListedTarget[] {
  return entries
    .filter((t) => t.scope === 'national' || t.scope === 'regulation' || (t.region !== null && legacyCodes.includes(t.region.code)))
    .map((t) => {
      const perLine = t.metric === 'download_mbps' && PER_LINE_STATISTICS.has(t.statistic) && (t.categories ?? []).length > 0
      const evaluated = t.scope === 'regulation'
        ? 'Kiểm tra theo từng đường truyền trên trang cơ quan (tham khảo)'
        : t.metric.startsWith('ipv6')
          ? 'Đánh giá ở mục tiến độ IPv6'
          : perLine
            ? (evaluatedIds.has(t.id) ? 'Đánh giá trong báo cáo (mục III)' : 'Không áp dụng trong kỳ: năm khác của cùng chỉ tiêu, hoặc không có đường truyền thuộc loại kết nối của chỉ tiêu')
            : 'Chưa đánh giá: chỉ tiêu cấp quốc gia hoặc cần số liệu gốc ngoài hệ thống'
      return {
        document: t.source.document,
        issuer: t.source.issuer ?? null,
        date: t.source.date ?? null,
        section: t.source.section ?? null,
        year: typeof t.year === 'number' ? t.year : null,
        rule: targetRuleVi({ statistic: t.statistic, thresholdMbps: t.thresholdMbps, requiredShare: t.requiredShare, connectionClasses: t.connectionClasses }),
        scope: scopeVi(t.categories ?? [], t.unitTypes, t.inHighTechZone === true),
        status: t.status === 'confirmed' ? 'đã đối chiếu' : 'chưa đối chiếu văn bản gốc',
        evaluated
      }
    })
}
