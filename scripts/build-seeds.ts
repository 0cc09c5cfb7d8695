/**
 * Derives the compact administrative-unit seeds in seeds/admin-units/ from the reference
 * data described in domain.md §7.5.
 *
 *   npx tsx scripts/build-seeds.ts [--source <dir>]
 *
 * The default source is ../shared/data/admin-units relative to the repository root, so
 * the command works from any checkout that has the shared data beside it. Output is
 * deterministic (no timestamps, source order kept) so a rebuild that changes nothing
 * leaves `git diff` empty.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { foldDiacritics } from '../collector/geo/names.js'

interface Src2024Ward { Code: string, Name: string, NameEn: string, FullName: string, DistrictCode: string }
interface Src2024District { Code: string, Name: string, NameEn: string, FullName: string, ProvinceCode: string, Ward: Src2024Ward[] | null }
interface Src2024Province { Code: string, Name: string, NameEn: string, FullName: string, District: Src2024District[] }
interface Src2025Ward { Code: string, Name: string, NameEn: string, FullName: string, ProvinceCode: string }
interface Src2025Province { Code: string, Name: string, NameEn: string, FullName: string, Wards: Src2025Ward[] }
interface SrcMerge { old_id: string, name: string, type: 'full' | 'partial' }
interface SrcMerges {
  data: Array<{ level1_id: string, name: string, merges: SrcMerge[], level2s: Array<{ level2_id: string, name: string, merges: SrcMerge[] }> }>
  stats: { level1_count: number, level2_count: number }
}

/**
 * The merges file follows CV 1027/CTK-CSCL; QĐ 19/2025/QĐ-TTg is authoritative and the
 * 2025 list follows it (domain.md §7.2). Only these two codes differ.
 */
export const CODE_FIXES = [
  { name: 'Xã Ba Chẽ', from: '06970', to: '06978' },
  { name: 'Xã Ia Mơ', from: '23737', to: '23938' }
] as const

const ATTRIBUTION_2024 = 'thanglequoc/vietnamese-provinces-database v2.4.1, json/simplified_json_generated_data_vn_units_minified.json (MIT, LICENSE-vietnamese-provinces-database.txt)'
const ATTRIBUTION_2025 = 'thanglequoc/vietnamese-provinces-database commit cd58063, json/simplified_json_generated_data_vn_units_2026-07-25__20_49_07.json (MIT, LICENSE-vietnamese-provinces-database.txt)'
const ATTRIBUTION_MERGES = 'dvhcvn/20250701 commit dd94887, mapping/merges.json (MIT, LICENSE-dvhcvn-20250701.txt)'
const FULL_NAME_RULE = 'types[typeIndex] + " " + name; a string in place of typeIndex is the full name itself'
const NAME_EN_RULE = 'the optional last column; when absent, the name without diacritics (NFD, drop U+0300-U+036F, đ->d, Đ->D)'
const LICENCE_FILES = ['LICENSE-vietnamese-provinces-database.txt', 'LICENSE-dvhcvn-20250701.txt']

const nfc = (s: string): string => s.normalize('NFC').trim()

/** A row ends with nameEn only when it is not the diacritic fold of the name. */
function row (head: unknown[], name: string, nameEn: string): unknown[] {
  const en = nfc(nameEn)
  return en === foldDiacritics(nfc(name)) ? head : [...head, en]
}

/**
 * Full names are "<type> <name>" throughout both lists, so a row stores an index into a
 * per-file type list instead of repeating the full name; a name that ever breaks the
 * pattern keeps its full name in the row instead (the loader handles both).
 */
class TypeTable {
  readonly types: string[] = []
  private readonly index = new Map<string, number>()
  encode (fullName: string, name: string): number | string {
    const full = nfc(fullName)
    const short = nfc(name)
    if (!full.endsWith(' ' + short)) return full
    const type = full.slice(0, full.length - short.length - 1)
    let i = this.index.get(type)
    if (i === undefined) {
      i = this.types.length
      this.types.push(type)
      this.index.set(type, i)
    }
    return i
  }
}

/** One row per line: small enough to ship, and diffs stay readable when the data changes. */
function serialise (doc: Record<string, unknown>): string {
  const lines: string[] = ['{']
  const keys = Object.keys(doc)
  keys.forEach((key, k) => {
    const value = doc[key]
    const comma = k < keys.length - 1 ? ',' : ''
    if (Array.isArray(value) && value.length > 0 && value.every(v => Array.isArray(v))) {
      lines.push(`  ${JSON.stringify(key)}: [`)
      value.forEach((row, i) => lines.push(`    ${JSON.stringify(row)}${i < value.length - 1 ? ',' : ''}`))
      lines.push(`  ]${comma}`)
    } else {
      lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`)
    }
  })
  lines.push('}')
  return lines.join('\n') + '\n'
}

function readJson<T> (file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T
}

export interface BuildSummary {
  provinces2025_03: number
  districts2025_03: number
  communes2025_03: number
  emptyDistricts: string[]
  provinces2025_07: number
  communes2025_07: number
  communeMerges: number
  provinceMerges: number
  codeFixesApplied: number
  oldIdsNotCommunes: string[]
}

export function buildSeeds (sourceDir: string, outDir: string): BuildSummary {
  const src2024 = readJson<Src2024Province[]>(join(sourceDir, 'units-2024.json'))
  const src2025 = readJson<Src2025Province[]>(join(sourceDir, 'units-2025.json'))
  const srcMerges = readJson<SrcMerges>(join(sourceDir, 'commune-merges-2025.json'))

  // --- 2025-03: the last pre-reform list -------------------------------------------
  const t03 = new TypeTable()
  const prov03: unknown[][] = []
  const dist03: unknown[][] = []
  const comm03: unknown[][] = []
  const emptyDistricts: string[] = []
  const oldCommunes = new Set<string>()
  const oldDistricts = new Set<string>()
  for (const p of src2024) {
    prov03.push(row([p.Code, nfc(p.Name), t03.encode(p.FullName, p.Name)], p.Name, p.NameEn))
    for (const d of p.District) {
      if (d.ProvinceCode !== p.Code) throw new Error(`district ${d.Code} names province ${d.ProvinceCode} inside ${p.Code}`)
      dist03.push(row([d.Code, p.Code, nfc(d.Name), t03.encode(d.FullName, d.Name)], d.Name, d.NameEn))
      oldDistricts.add(d.Code)
      // Island districts without communes (Ward: null) stay as districts so agents there
      // can still be placed in a legacy district.
      if (d.Ward === null || d.Ward.length === 0) emptyDistricts.push(d.Code)
      for (const w of d.Ward ?? []) {
        if (w.DistrictCode !== d.Code) throw new Error(`commune ${w.Code} names district ${w.DistrictCode} inside ${d.Code}`)
        if (oldCommunes.has(w.Code)) throw new Error(`duplicate 2025-03 commune code ${w.Code}`)
        oldCommunes.add(w.Code)
        comm03.push(row([w.Code, d.Code, nfc(w.Name), t03.encode(w.FullName, w.Name)], w.Name, w.NameEn))
      }
    }
  }

  // --- 2025-07: the current list ------------------------------------------------------
  const t07 = new TypeTable()
  const prov07: unknown[][] = []
  const comm07: unknown[][] = []
  const newCommunes = new Set<string>()
  for (const p of src2025) {
    prov07.push(row([p.Code, nfc(p.Name), t07.encode(p.FullName, p.Name)], p.Name, p.NameEn))
    for (const w of p.Wards) {
      if (w.ProvinceCode !== p.Code) throw new Error(`commune ${w.Code} names province ${w.ProvinceCode} inside ${p.Code}`)
      if (newCommunes.has(w.Code)) throw new Error(`duplicate 2025-07 commune code ${w.Code}`)
      newCommunes.add(w.Code)
      comm07.push(row([w.Code, p.Code, nfc(w.Name), t07.encode(w.FullName, w.Name)], w.Name, w.NameEn))
    }
  }

  // --- old -> new mapping -----------------------------------------------------------
  const fixes = new Map<string, string>(CODE_FIXES.map(f => [f.from, f.to]))
  const oldProvinces = new Set(src2024.map(p => p.Code))
  const newProvinces = new Set(src2025.map(p => p.Code))
  const provMerges: unknown[][] = []
  const commMerges: unknown[][] = []
  const oldIdsNotCommunes = new Set<string>()
  const seenNew = new Set<string>()
  let codeFixesApplied = 0
  let communeMerges = 0
  for (const l1 of srcMerges.data) {
    if (!newProvinces.has(l1.level1_id)) throw new Error(`merges: province ${l1.level1_id} is not in units-2025.json`)
    for (const m of l1.merges) {
      if (!oldProvinces.has(m.old_id)) throw new Error(`merges: old province ${m.old_id} is not in units-2024.json`)
    }
    provMerges.push([l1.level1_id, l1.merges.map(m => m.old_id)])
    for (const l2 of l1.level2s) {
      const fixed = fixes.get(l2.level2_id)
      if (fixed !== undefined) codeFixesApplied++
      const code = fixed ?? l2.level2_id
      if (!newCommunes.has(code)) throw new Error(`merges: new commune ${l2.level2_id} is not in units-2025.json and has no known code fix`)
      if (seenNew.has(code)) throw new Error(`merges: new commune ${code} listed twice`)
      seenNew.add(code)
      const full: string[] = []
      const partial: string[] = []
      for (const m of l2.merges) {
        // Island district codes and a few communes renumbered after the 2024 list's cut-off;
        // kept as given (a district code still tells the placement its legacy district).
        if (!oldCommunes.has(m.old_id)) oldIdsNotCommunes.add(m.old_id)
        if (m.type === 'full') full.push(m.old_id)
        else if (m.type === 'partial') partial.push(m.old_id)
        else throw new Error(`merges: unknown type ${String(m.type)} for ${code}/${m.old_id}`)
        communeMerges++
      }
      commMerges.push([code, full, partial])
    }
  }
  if (seenNew.size !== newCommunes.size) throw new Error(`merges cover ${seenNew.size} new communes, units-2025.json has ${newCommunes.size}`)
  for (const id of oldIdsNotCommunes) {
    if (id.length === 3 && !oldDistricts.has(id)) throw new Error(`merges: old id ${id} is neither a commune nor a district`)
  }

  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'units-2025-03.json'), serialise({
    version: '2025-03',
    source: ATTRIBUTION_2024,
    generatedBy: 'scripts/build-seeds.ts',
    fullName: FULL_NAME_RULE,
    nameEn: NAME_EN_RULE,
    types: t03.types,
    provinceColumns: ['code', 'name', 'typeIndex', 'nameEn?'],
    districtColumns: ['code', 'provinceCode', 'name', 'typeIndex', 'nameEn?'],
    communeColumns: ['code', 'districtCode', 'name', 'typeIndex', 'nameEn?'],
    districtsWithoutCommunes: emptyDistricts,
    provinces: prov03,
    districts: dist03,
    communes: comm03
  }))
  writeFileSync(join(outDir, 'units-2025-07.json'), serialise({
    version: '2025-07',
    source: ATTRIBUTION_2025,
    generatedBy: 'scripts/build-seeds.ts',
    fullName: FULL_NAME_RULE,
    nameEn: NAME_EN_RULE,
    types: t07.types,
    provinceColumns: ['code', 'name', 'typeIndex', 'nameEn?'],
    communeColumns: ['code', 'provinceCode', 'name', 'typeIndex', 'nameEn?'],
    provinces: prov07,
    communes: comm07
  }))
  const sortedOdd = [...oldIdsNotCommunes].sort()
  writeFileSync(join(outDir, 'commune-merges-2025.json'), serialise({
    from: '2025-03',
    to: '2025-07',
    source: ATTRIBUTION_MERGES,
    generatedBy: 'scripts/build-seeds.ts',
    codeFixes: CODE_FIXES.map(f => ({ ...f, reason: 'merges file uses CV 1027/CTK-CSCL; QĐ 19/2025/QĐ-TTg code used' })),
    oldIdsNotIn2025_03Communes: sortedOdd,
    provinceColumns: ['newCode', 'oldCodes'],
    communeColumns: ['newCode', 'oldFull', 'oldPartial'],
    provinces: provMerges,
    communes: commMerges
  }))
  for (const f of LICENCE_FILES) {
    // The shared copies are read-only; copying would carry the mode over and block the next build.
    rmSync(join(outDir, f), { force: true })
    writeFileSync(join(outDir, f), readFileSync(join(sourceDir, f)))
  }

  return {
    provinces2025_03: prov03.length,
    districts2025_03: dist03.length,
    communes2025_03: comm03.length,
    emptyDistricts,
    provinces2025_07: prov07.length,
    communes2025_07: comm07.length,
    communeMerges,
    provinceMerges: provMerges.reduce((n, r) => n + (r[1] as string[]).length, 0),
    codeFixesApplied,
    oldIdsNotCommunes: sortedOdd
  }
}

/**
 * `--check`: rebuilds the seeds twice into temporary folders and fails unless both builds
 * equal the committed files byte for byte, so the committed seeds provably come from the
 * reference data and the build is deterministic. CI runs it.
 */
function checkSeeds (source: string, committed: string): void {
  if (!existsSync(source)) throw new Error(`reference data not found at ${source}; pass --source <dir>`)
  const dirs = [mkdtempSync(join(tmpdir(), 'tocdo-seeds-')), mkdtempSync(join(tmpdir(), 'tocdo-seeds-'))]
  try {
    for (const dir of dirs) buildSeeds(source, dir)
    const files = readdirSync(committed).sort()
    const built = readdirSync(dirs[0] as string).sort()
    if (JSON.stringify(files) !== JSON.stringify(built)) throw new Error(`seed files differ: committed ${files.join(', ')}; built ${built.join(', ')}`)
    for (const f of files) {
      const want = readFileSync(join(committed, f))
      for (const dir of dirs) {
        if (!readFileSync(join(dir, f)).equals(want)) throw new Error(`seeds/admin-units/${f} differs from a fresh build; run npm run seeds:build and commit the result`)
      }
    }
    process.stdout.write(`seeds: ${files.length} files rebuilt twice, identical to the committed ones\n`)
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

function main (argv: string[]): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  let source = resolve(root, '../shared/data/admin-units')
  let check = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--source') {
      const v = argv[++i]
      if (v === undefined) throw new Error('--source needs a directory')
      source = resolve(v)
    } else if (arg === '--check') {
      check = true
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npx tsx scripts/build-seeds.ts [--source <dir>] [--check]\n')
      return
    } else {
      throw new Error(`unknown argument ${String(arg)} (usage: npx tsx scripts/build-seeds.ts [--source <dir>] [--check])`)
    }
  }
  if (check) {
    checkSeeds(source, join(root, 'seeds', 'admin-units'))
    return
  }
  const s = buildSeeds(source, join(root, 'seeds', 'admin-units'))
  process.stdout.write([
    `2025-03: ${s.provinces2025_03} provinces, ${s.districts2025_03} districts (${s.emptyDistricts.length} without communes: ${s.emptyDistricts.join(', ')}), ${s.communes2025_03} communes`,
    `2025-07: ${s.provinces2025_07} provinces, ${s.communes2025_07} communes`,
    `merges: ${s.communeMerges} commune links, ${s.provinceMerges} province links, ${s.codeFixesApplied} code fixes (CV 1027 -> QĐ 19)`,
    `old ids not among 2025-03 communes (kept): ${s.oldIdsNotCommunes.length}: ${s.oldIdsNotCommunes.join(', ')}`,
    ''
  ].join('\n'))
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2))
}
