import { h, append } from '../dom.js'
import { t, getLang } from '../i18n.js'
import { getJson } from '../api.js'
import { attainmentClass, isShareStatistic, cellView, createFootnotes, coverageText, legend, problem, targetCell, exportLinks, leftOutText, onlyLeftOut } from '../components.js'
import { figuresIn } from '../figures.js'
import { pageHeading, periodLine, rulesNote, areaLevel } from './common.js'

const SPLITS = [null, 'connection_class', 'isp', 'time_band']

export async function render (ctx) {
  const { state, view } = ctx
  const level = areaLevel(state)
  append(view, pageHeading(ctx, 'areas'))
  append(view, h('div', { class: 'page-controls' },
    h('label', {}, t('controls.split'), ' ',
      h('select', { id: 'split-picker', onchange: (e) => { window.location.hash = ctx.link({ split: e.target.value === '' ? null : e.target.value }) } },
        SPLITS.map((s) => h('option', { value: s ?? '', selected: state.split === s, text: t(`split.${s ?? 'none'}`) })))),
    level === 'commune'
      ? h('label', {}, h('input', { type: 'checkbox', id: 'show-empty', checked: state.showEmpty, onchange: (e) => { window.location.hash = ctx.link({ showEmpty: e.target.checked }) } }), ' ', t('controls.showEmpty'))
      : null))

  const params = { level, province: state.province, period: state.period, split: state.split ?? undefined }
  const res = await getJson('/api/v1/reports/areas', params)
  if (ctx.stale()) return
  if (!res.ok) { append(view, problem(res)); return }
  const report = res.data

  const footnotes = createFootnotes()
  const rows = report.rows ?? []
  const shown = rows.filter((r) => level !== 'commune' || state.showEmpty || (r.coverage?.agentsEnrolled ?? 0) > 0 || (r.coverage?.results ?? 0) > 0)
  append(view,
    periodLine(report.period),
    level === 'legacy_district' ? h('p', { class: 'legacy-note', text: t('areas.legacyNote') }) : null,
    legend(),
    table(level, shown, footnotes, state.split),
    shown.length < rows.length ? h('p', { class: 'hidden-rows', text: t('areas.hiddenRows', { n: rows.length - shown.length }) }) : null,
    // The report's own notes are in English; the Vietnamese page carries its own wording above.
    getLang() === 'en' ? (report.notes ?? []).map((n) => h('p', { class: 'note', text: n })) : null,
    exportLinks('/api/v1/reports/areas', { level, province: state.province, period: state.period, ...(state.split ? { split: state.split } : {}) }),
    rulesNote(report.rules),
    footnotes.view())
}

function table (level, rows, footnotes, split) {
  const areaHead = level === 'legacy_district' ? t('col.legacyDistrict') : t('col.commune')
  const columns = figuresIn('headline')
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data areas', id: 'area-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: areaHead }),
      split ? h('th', { scope: 'col', text: t(`split.${split}`) }) : null,
      h('th', { scope: 'col', text: t('col.coverage') }),
      columns.map((f) => h('th', { scope: 'col', title: t(f.helpKey) }, t(f.labelKey), h('span', { class: 'unit', text: ` (${t(`unit.${f.unit}`)})` }))),
      h('th', { scope: 'col', text: t('col.targets') }))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length + 4, class: 'empty', text: t('areas.noRows') }))
      : rows.map((row) => h('tr', { class: row.split ? 'split-row' : 'area-row', dataset: { area: row.area.code, split: row.split?.value ?? '' } },
        h('th', { scope: 'row' },
          row.split ? '' : h('span', { class: 'area-name', text: row.area.name }),
          row.split ? '' : h('span', { class: 'area-code', text: ` ${row.area.code}` })),
        split ? h('td', { class: 'split-value', text: row.split ? splitValue(row.split) : t('split.all') }) : null,
        h('td', { class: 'coverage-cell', text: coverageText(row.coverage) }),
        columns.map((f) => h('td', { class: `fig fig-${f.key}` }, cellView(row.figures?.[f.key], f.unit, { compact: true }))),
        h('td', { class: 'targets-cell' }, targetsView(row.targets ?? [], footnotes)))))))
}

/** Every target with its verdict; when none can be judged yet, one line instead of a stack of grey boxes. */
function targetsView (all, footnotes) {
  if (all.length === 0) return h('span', { class: 'muted', text: t('areas.noTarget') })
  // A target whose scope leaves out every line of the row is not judged here: one line says so.
  const outside = all.filter(onlyLeftOut).map((ev) => h('div', { class: 'target-outside' },
    h('span', { class: 'doc', text: `${ev.document} (${ev.year})` }), ': ', leftOutText(ev), ' ',
    h('sup', {}, h('a', { href: `#fn-${footnotes.mark(ev)}`, class: 'fn', text: `[${footnotes.mark(ev)}]` }))))
  const targets = all.filter((ev) => !onlyLeftOut(ev))
  if (targets.length === 0) return outside
  return [targetsJudged(targets, footnotes), outside]
}

function targetsJudged (targets, footnotes) {
  if (targets.every((ev) => attainmentClass(ev) === 'na')) {
    return h('div', { class: 'target st-na' },
      h('span', {}, t('areas.targetsNa', { n: targets.length }), ' '),
      targets.map((ev) => ({ ev, n: footnotes.mark(ev) })).sort((a, b) => a.n - b.n)
        .map(({ ev, n }) => h('sup', {}, h('a', { href: `#fn-${n}`, class: 'fn', title: `${ev.document} (${ev.year})`, text: `[${n}]` }))),
      ' ', h('span', { class: 'n', text: t('cell.nOfMin', { n: targets[0].figure?.n ?? 0, min: targets[0].figure?.minN ?? '' }) }))
  }
  const current = targets.filter((ev) => ev.horizon !== true)
  const horizon = targets.filter((ev) => ev.horizon === true)
  return [
    current.map((ev) => targetCell(ev, footnotes)),
    // Later-year horizons (2030) are context for this period: one compact line, never a verdict.
    horizon.length === 0
      ? null
      : h('div', { class: 'target horizon st-na' }, horizon.map((ev, i) => [
        i === 0 ? '' : '; ',
        t('areas.horizonItem', { doc: ev.document, year: ev.year }), ': ',
        cellView(ev.figure, isShareStatistic(ev.statistic) ? 'share' : 'mbps', { compact: true }),
        h('sup', {}, h('a', { href: `#fn-${footnotes.mark(ev)}`, class: 'fn', text: `[${footnotes.mark(ev)}]` }))]))
  ]
}

function splitValue (split) {
  if (split.by === 'connection_class') return t(`class.${split.value}`)
  if (split.by === 'time_band') return t(`band.${split.value}`)
  return split.value
}
