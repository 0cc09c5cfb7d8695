/** The tocdo release this code belongs to; agents report it with every result. */
export const TOCDO_VERSION = '0.1.0'
