import { randomFillSync } from 'node:crypto'

/**
 * One incompressible buffer per process, generated once and reused for every download:
 * generating random bytes per request is a known server CPU sink (librespeed/speedtest#412).
 * 8 MiB is large enough that compression on any middlebox has nothing to find.
 */
export const PAYLOAD_BYTES = 8 * 1024 * 1024

let payload: Buffer | undefined

export function getPayload (): Buffer {
  if (payload === undefined) payload = randomFillSync(Buffer.allocUnsafe(PAYLOAD_BYTES))
  return payload
}
