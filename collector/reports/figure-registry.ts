import type { ReportRules } from './rules.js'

/**
 * The figures of an area row, defined once (docs/reports.md §2). The report schemas, the
 * export columns, the official report's tables, and the dashboard (through GET /api/v1/reports/meta)
 * are all derived from this list; computeGroup (figures.ts) must fill every key, and a test checks
 * it. Adding a figure means adding its entry here and its computation there, nothing else.
 */

/** What a figure's n counts. */
export const CELL_BASES = ['representative_samples', 'agents', 'agencies', 'tests'] as const
export type CellBasis = typeof CELL_BASES[number]

/** How a figure's value is read and printed: its unit's label lives with the unit, not the figure. */
export const FIGURE_UNITS = ['mbps', 'ms'] as const
export type FigureUnit = typeof FIGURE_UNITS[number]

/**
 * Where a figure is listed: `headline` in the overview's cards, the area table and the official
 * report's key figures; `byClass` in the overview's table by connection class; `agent` in the
 * agency page's figures per line. Exports and the JSON replies always carry every figure.
 */
export const FIGURE_VIEWS = ['headline', 'byClass', 'agent'] as const
export type FigureView = typeof FIGURE_VIEWS[number]

export interface FigureSpec {
  key: string
  unit: FigureUnit
  basis: CellBasis
  /** The publication rule: the value is shown only when n reaches this minimum (rules.ts). */
  minimum: keyof Pick<ReportRules, 'minRepresentativeSamples' | 'minAgents'>
  /** Decimal places of the published value. */
  digits: number
  views: readonly FigureView[]
  /** Names in the report's languages; the dashboard's dictionary receives them under `figure.<key>` and `figureHelp.<key>`. */
  label: { vi: string, en: string }
  help: { vi: string, en: string }
}

const SAMPLES = { basis: 'representative_samples', minimum: 'minRepresentativeSamples', digits: 2 } as const
const AGENTS = { basis: 'agents', minimum: 'minAgents', digits: 2 } as const

export const FIGURES = [
  {
    key: 'downloadMean',
    unit: 'mbps',
    ...SAMPLES,
    views: ['headline', 'byClass', 'agent'],
    label: { vi: 'Tải xuống – trung bình', en: 'Download – mean' },
    help: {
      vi: 'Trung bình cộng các mẫu đại diện, cách i-Speed công bố; là "tốc độ trung bình" mà các chỉ tiêu nói tới.',
      en: 'Arithmetic mean of representative samples, as i-Speed publishes it; the "average speed" targets refer to.'
    }
  },
  {
    key: 'downloadMedian',
    unit: 'mbps',
    ...SAMPLES,
    views: ['headline', 'byClass', 'agent'],
    label: { vi: 'Tải xuống – trung vị', en: 'Download – median' },
    help: {
      vi: 'Trung vị các mẫu đại diện (con số i-Speed thường dùng trong báo chí); không phải trung bình.',
      en: "Median of representative samples (i-Speed's press headline); not the mean."
    }
  },
  {
    key: 'downloadP20',
    unit: 'mbps',
    ...SAMPLES,
    views: [],
    label: { vi: 'Tải xuống – phân vị 20', en: 'Download – 20th percentile' },
    help: { vi: '20 % mẫu đại diện thấp hơn mức này.', en: '20 % of representative samples are below this.' }
  },
  {
    key: 'uploadMean',
    unit: 'mbps',
    ...SAMPLES,
    views: ['headline', 'byClass', 'agent'],
    label: { vi: 'Tải lên – trung bình', en: 'Upload – mean' },
    help: { vi: 'Trung bình cộng các mẫu đại diện, chiều tải lên.', en: 'Arithmetic mean of representative samples, upload.' }
  },
  {
    key: 'uploadMedian',
    unit: 'mbps',
    ...SAMPLES,
    views: ['headline', 'byClass', 'agent'],
    label: { vi: 'Tải lên – trung vị', en: 'Upload – median' },
    help: { vi: 'Trung vị các mẫu đại diện, chiều tải lên.', en: 'Median of representative samples, upload.' }
  },
  {
    key: 'idleLatencyMedianMs',
    unit: 'ms',
    ...SAMPLES,
    views: ['headline', 'agent'],
    label: { vi: 'Độ trễ khi rảnh – trung vị', en: 'Idle latency – median' },
    help: { vi: 'Trung vị độ trễ khi đường truyền rảnh.', en: 'Median latency on an idle line.' }
  },
  {
    key: 'agentMedianOfMedians',
    unit: 'mbps',
    ...AGENTS,
    views: ['headline'],
    label: { vi: 'Trung vị của trung vị các máy đo', en: "Median of the agents' medians" },
    help: {
      vi: 'Mỗi máy đo lấy trung vị của mình, rồi lấy trung vị giữa các máy đo.',
      en: 'Each agent takes its own median, then the median across agents.'
    }
  },
  {
    key: 'busyHour8080',
    unit: 'mbps',
    ...AGENTS,
    views: ['headline'],
    label: { vi: 'Tốc độ 80/80 giờ hành chính', en: 'Office-hours 80/80 speed' },
    help: {
      vi: 'Số tuyệt đối (Mb/s) trên mọi đường truyền của địa bàn, mọi gói cước: tốc độ mà 80 % đường truyền đạt ít nhất 80 % thời gian trong giờ hành chính. Cách FCC MBA tính theo nhà mạng và gói cước, so với tốc độ gói cước: xem bảng 80/80 bên dưới.',
      en: 'Absolute (Mb/s) over every line of the area, all plans together: the speed 80 % of lines get at least 80 % of office hours. FCC MBA\'s own figure, per ISP and plan tier as a share of the plan, is the 80/80 table below.'
    }
  }
] as const satisfies readonly FigureSpec[]

export type FigureKey = typeof FIGURES[number]['key']

export const FIGURE_KEYS: readonly FigureKey[] = FIGURES.map((f) => f.key)

export const FIGURE: Readonly<Record<FigureKey, FigureSpec>> = Object.fromEntries(FIGURES.map((f): [FigureKey, FigureSpec] => [f.key, f])) as Record<FigureKey, FigureSpec>

/** The figures listed in one view, in registry order. */
export function figuresIn (view: FigureView): FigureKey[] {
  return FIGURES.filter((f) => (f.views as readonly FigureView[]).includes(view)).map((f) => f.key)
}

/** The dashboard's dictionary keys of a figure's name and help text. */
export const labelKey = (key: FigureKey): string => `figure.${key}`
export const helpKey = (key: FigureKey): string => `figureHelp.${key}`

/** Unit labels in Vietnamese, for exports and the official report. */
export const UNIT_VI: Record<FigureUnit, string> = { mbps: 'Mb/s', ms: 'ms' }
