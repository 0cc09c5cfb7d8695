/**
 * English names in the reference lists are the Vietnamese names without diacritics in all
 * but a handful of cases (Hanoi, Haiphong, Paracel, Spratly), so the seeds store `nameEn`
 * only where it differs from this fold; the builder and the loader must use the same one.
 */
export function foldDiacritics (name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').normalize('NFC')
}

/*
 * Tone marks on the open syllables oa, oe and uy: the two reference lists differ only in where
 * they put them (the 2025-07 list "Thanh Hoá", "Thuỷ"; the 2025-03 list mostly "Thanh Hóa",
 * "Thủy"; seeds/README.md). The administrative documents (Nghị quyết 202/2025/QH15, the provinces'
 * own names) write the tone on the first vowel, so every name is shown that way: one spelling for
 * one place in every page, export and report. Only a syllable ending in that vowel pair moves
 * ("Hoàng", "Thuận" and "Quý" are the same in both conventions).
 */
const TONES = ['\u0300', '\u0301', '\u0309', '\u0303', '\u0323'] // huyền, sắc, hỏi, ngã, nặng
const TONE = `[${TONES.join('')}]`
const OPEN_PAIR = new RegExp(`(?<![qQ])([oO][aAeE]|[uU][yY])(${TONE})(?!\\p{L})`, 'gu')

/** A name with the tone of a final oa / oe / uy on its first vowel ("Hoà" → "Hòa", "Thuỷ" → "Thủy"), in NFC. */
export function officialSpelling (name: string): string {
  return name.normalize('NFD').replace(OPEN_PAIR, (_m, pair: string, tone: string) => `${pair[0] ?? ''}${tone}${pair.slice(1)}`).normalize('NFC')
}
