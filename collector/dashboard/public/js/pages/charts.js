import { h, append } from '../dom.js'
import { t, formatNumber, formatShare, formatMonth, locale } from '../i18n.js'
import { getJson } from '../api.js'
import { problem } from '../components.js'
import { pageHeading, periodLine, provinceLevel } from './common.js'

/** Print-friendly colours with enough contrast; series are also told apart by dash and marker. */
const INK = { mean: '#1f4e79', median: '#b35900', target: '#7a1f1f', bars: '#4a7fb0' }

export async function render (ctx) {
  const { state, view } = ctx
  append(view, pageHeading(ctx, 'charts'))
  if (typeof window.Chart !== 'function') {
    append(view, h('div', { class: 'notice error', text: t('charts.noLibrary') }))
    return
  }
  const level = provinceLevel(state)
  const [dist, trend] = await Promise.all([
    getJson('/api/v1/reports/distribution', { level, code: state.province, period: state.period, metric: 'download' }),
    getJson('/api/v1/reports/trend', { level, code: state.province, months: 12 })
  ])
  if (ctx.stale()) return

  const distSection = h('section', { class: 'chart-section', id: 'distribution' }, h('h2', { text: t('charts.distribution') }))
  const trendSection = h('section', { class: 'chart-section', id: 'trend' }, h('h2', { text: t('charts.trend') }))
  append(view, distSection, trendSection)

  if (!dist.ok) append(distSection, problem(dist))
  else distribution(ctx, distSection, dist.data)
  if (!trend.ok) append(trendSection, problem(trend))
  else trendChart(ctx, trendSection, trend.data, dist.ok ? groupThresholds(dist.data.targets ?? []).filter((g) => !g.horizon) : [])
}

function distribution (ctx, section, d) {
  const bins = d.bins ?? []
  append(section, periodLine(d.period),
    h('p', { class: 'chart-caption', text: t('charts.distributionCaption', { n: formatNumber(d.n, 0) }) }))
  if (d.n === 0 || bins.length === 0) { append(section, h('p', { class: 'empty', text: t('charts.noData') })); return }
  const canvas = h('canvas', { role: 'img', 'aria-label': t('charts.distribution') })
  append(section, h('div', { class: 'chart-box' }, canvas))
  const labels = bins.map((b) => b.toMbps === null ? `≥ ${formatNumber(b.fromMbps, 0)}` : `${formatNumber(b.fromMbps, 0)}–${formatNumber(b.toMbps, 0)}`)
  const targets = groupThresholds(d.targets ?? [])
  ctx.addChart(new window.Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: t('charts.samples'), data: bins.map((b) => b.count), backgroundColor: INK.bars }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale: locale(),
      scales: {
        x: { title: { display: true, text: t('charts.binAxis') } },
        y: { title: { display: true, text: t('charts.countAxis') }, beginAtZero: true, ticks: { precision: 0 } }
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { afterLabel: (item) => formatShare(bins[item.dataIndex].share, 1) } }
      }
    },
    plugins: [thresholdLines(bins, targets)]
  }))
  append(section, h('ul', { class: 'chart-targets' }, targets.map((tg) =>
    h('li', {}, h('span', { class: ['swatch', 'target-line', tg.horizon && 'horizon'] }), ' ',
      t('charts.targetLine', { id: tg.label, threshold: formatNumber(tg.thresholdMbps, 0) }),
      tg.horizon ? ` ${t('charts.horizon')}` : ''))))
  append(section, binTable(labels, bins))
}

/** A data table under each chart, so the figures print and read without the picture. */
function binTable (labels, bins) {
  return h('details', { class: 'chart-data' }, h('summary', { text: t('charts.dataTable') }),
    h('table', { class: 'data compact' },
      h('thead', {}, h('tr', {}, h('th', { text: t('charts.binAxis') }), h('th', { text: t('charts.countAxis') }), h('th', { text: '%' }))),
      h('tbody', {}, bins.map((b, i) => h('tr', {}, h('td', { text: labels[i] }), h('td', { text: formatNumber(b.count, 0) }), h('td', { text: formatShare(b.share, 1) }))))))
}

/**
 * Vertical target lines on the histogram: the x position is interpolated inside the bin that
 * holds the threshold, so 40 Mb/s lands inside the 25–50 bar, not on an edge.
 */
function thresholdLines (bins, targets) {
  return {
    id: 'tocdoThresholds',
    afterDatasetsDraw (chart) {
      const meta = chart.getDatasetMeta(0)
      const { ctx: g, chartArea } = chart
      for (const tg of targets) {
        const i = bins.findIndex((b) => tg.thresholdMbps >= b.fromMbps && (b.toMbps === null || tg.thresholdMbps < b.toMbps))
        const bar = meta.data[i]
        if (bar === undefined) continue
        const b = bins[i]
        const half = bar.width / 2
        const frac = b.toMbps === null ? 0 : (tg.thresholdMbps - b.fromMbps) / (b.toMbps - b.fromMbps)
        const x = bar.x - half + frac * bar.width
        g.save()
        g.strokeStyle = INK.target
        g.lineWidth = tg.horizon ? 1 : 2
        g.setLineDash(tg.horizon ? [2, 4] : [6, 4])
        g.beginPath()
        g.moveTo(x, chartArea.top)
        g.lineTo(x, chartArea.bottom)
        g.stroke()
        g.fillStyle = INK.target
        g.font = '12px sans-serif'
        g.fillText(`${formatNumber(tg.thresholdMbps, 0)}`, x + 3, chartArea.top + 12)
        g.restore()
      }
    }
  }
}

function trendChart (ctx, section, d, targets) {
  const series = (d.series ?? []).find((s) => s.split === null) ?? d.series?.[0]
  const points = series?.points ?? []
  if (points.length === 0) { append(section, h('p', { class: 'empty', text: t('charts.noData') })); return }
  const value = (c) => c?.status === 'ok' ? c.value : null
  const mean = points.map((p) => value(p.figures?.downloadMean))
  const median = points.map((p) => value(p.figures?.downloadMedian))
  append(section, h('p', { class: 'chart-caption', text: t('charts.trendCaption', { min: d.rules?.minRepresentativeSamples ?? '' }) }))
  const canvas = h('canvas', { role: 'img', 'aria-label': t('charts.trend') })
  append(section, h('div', { class: 'chart-box' }, canvas))
  ctx.addChart(new window.Chart(canvas, {
    type: 'line',
    data: {
      labels: points.map((p) => formatMonth(p.month)),
      datasets: [
        { label: t('figure.downloadMean'), data: mean, borderColor: INK.mean, backgroundColor: INK.mean, pointStyle: 'circle', spanGaps: false },
        { label: t('figure.downloadMedian'), data: median, borderColor: INK.median, backgroundColor: INK.median, pointStyle: 'rect', borderDash: [4, 3], spanGaps: false },
        ...targets.map((tg) => ({ label: t('charts.targetLine', { id: tg.label, threshold: formatNumber(tg.thresholdMbps, 0) }), data: points.map(() => tg.thresholdMbps), borderColor: INK.target, borderDash: [8, 4], pointRadius: 0, borderWidth: 1.5 }))
      ]
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale: locale(),
      scales: { y: { beginAtZero: true, title: { display: true, text: t('unit.mbps') } } }
    }
  }))
  append(section, h('details', { class: 'chart-data' }, h('summary', { text: t('charts.dataTable') }),
    h('table', { class: 'data compact' },
      h('thead', {}, h('tr', {}, h('th', { text: t('charts.month') }), h('th', { text: t('figure.downloadMean') }), h('th', { text: t('figure.downloadMedian') }), h('th', { text: t('col.coverage') }))),
      h('tbody', {}, points.map((p, i) => h('tr', {},
        h('td', { text: formatMonth(p.month) }),
        h('td', { text: mean[i] === null ? cellStatus(p.figures?.downloadMean) : formatNumber(mean[i], 1) }),
        h('td', { text: median[i] === null ? cellStatus(p.figures?.downloadMedian) : formatNumber(median[i], 1) }),
        h('td', { text: formatNumber(p.coverage?.representativeSamples, 0) + ' ' + t('charts.samplesShort') })))))))
}

function cellStatus (c) {
  if (c === undefined || c === null || c.status === 'no_data') return t('cell.noData')
  return `${t('cell.insufficient')} (n = ${formatNumber(c.n, 0)})`
}

/**
 * One line per threshold: several documents often set the same figure (QĐ 36 and the
 * province's plan restating it), and a horizon target (2030) is drawn apart from this year's.
 */
function groupThresholds (targets) {
  const byKey = new Map()
  for (const tg of targets) {
    if (typeof tg.thresholdMbps !== 'number') continue
    const key = `${tg.thresholdMbps}:${tg.horizon === true}`
    const g = byKey.get(key) ?? { thresholdMbps: tg.thresholdMbps, horizon: tg.horizon === true, docs: [] }
    const doc = tg.document ?? tg.targetId
    if (!g.docs.includes(doc)) g.docs.push(doc)
    byKey.set(key, g)
  }
  return [...byKey.values()].map((g) => ({ ...g, label: g.docs.join(', ') })).sort((a, b) => a.thresholdMbps - b.thresholdMbps)
}
