/**
 * English names in the reference lists are the Vietnamese names without diacritics in all
 * but a handful of cases (Hanoi, Haiphong, Paracel, Spratly), so the seeds store `nameEn`
 * only where it differs from this fold; the builder and the loader must use the same one.
 */
export function foldDiacritics (name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').normalize('NFC')
}
