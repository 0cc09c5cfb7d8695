import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * The Roboto fonts pdfmake ships (every Vietnamese letter): the PDF embeds them and the charts'
 * PNG rendering draws its labels with them, so both documents print the same glyphs.
 */
const require = createRequire(import.meta.url)
export const ROBOTO_DIR = join(dirname(require.resolve('pdfmake/fonts/Roboto.js')), 'Roboto')
export const ROBOTO = {
  normal: join(ROBOTO_DIR, 'Roboto-Regular.ttf'),
  bold: join(ROBOTO_DIR, 'Roboto-Medium.ttf'),
  italics: join(ROBOTO_DIR, 'Roboto-Italic.ttf'),
  bolditalics: join(ROBOTO_DIR, 'Roboto-MediumItalic.ttf')
} as const
