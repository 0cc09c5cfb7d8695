import { request } from 'undici'
import { PATHS } from '../../shared/protocol.js'
import type { BatchReply, ResultRecord } from '../../shared/schemas/result.js'
import { TocdoError } from '../../shared/errors.js'

/**
 * Sends one batch of records to the collector and returns its per-item acknowledgements.
 * Throws with the collector's error code on any non-200 reply, so the caller (the outbox)
 * decides what to retry; this function never retries on its own.
 */
export async function postResults ({ collector, token, records, signal }: {
  collector: string
  token: string
  records: readonly ResultRecord[]
  signal?: AbortSignal
}): Promise<BatchReply> {
  const url = new URL(PATHS.results, collector)
  const { statusCode, headers, body } = await request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ results: records }),
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    ...(signal === undefined ? {} : { signal })
  })
  const text = await body.text()
  if (statusCode === 200) return JSON.parse(text) as BatchReply
  let message = text.slice(0, 500)
  try { message = (JSON.parse(text) as { message?: string }).message ?? message } catch {}
  const retryAfter = headers['retry-after']
  const details = { status: statusCode, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) }
  switch (statusCode) {
    case 401: throw new TocdoError('TOCDO_ERR_AUTH_INVALID', message, { details })
    case 403: throw new TocdoError('TOCDO_ERR_AGENT_REVOKED', message, { details })
    case 410: throw new TocdoError('TOCDO_ERR_AGENT_DECOMMISSIONED', message, { details })
    case 413: throw new TocdoError('TOCDO_ERR_PAYLOAD_TOO_LARGE', message, { details })
    case 429: throw new TocdoError('TOCDO_ERR_RATE_LIMITED', message, { details })
    case 503: throw new TocdoError('TOCDO_ERR_SERVER_BUSY', message, { details })
    default: throw new TocdoError(statusCode >= 500 ? 'TOCDO_ERR_INTERNAL' : 'TOCDO_ERR_VALIDATION', `collector answered ${statusCode}: ${message}`, { details })
  }
}
