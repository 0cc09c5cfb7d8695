/**
 * Every error tocdo raises on purpose has a stable code, a message and (for the collector)
 * an HTTP status. Callers match on `error.code`, never on the message or on `instanceof`
 * across package boundaries (the undici convention). docs/errors.md lists every code; a
 * test keeps the two in sync.
 */
export const ERROR_CODES = {
  TOCDO_ERR_CONFIG_INVALID: { status: 500, message: 'Configuration is invalid' },
  TOCDO_ERR_VALIDATION: { status: 400, message: 'Request does not match the schema' },
  TOCDO_ERR_AUTH_MISSING: { status: 401, message: 'Missing bearer token' },
  TOCDO_ERR_AUTH_INVALID: { status: 401, message: 'Token is not valid' },
  TOCDO_ERR_FORBIDDEN: { status: 403, message: 'Not allowed' },
  TOCDO_ERR_AGENT_REVOKED: { status: 403, message: 'Agent has been revoked' },
  TOCDO_ERR_AGENT_DECOMMISSIONED: { status: 410, message: 'Agent has been decommissioned' },
  TOCDO_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  TOCDO_ERR_CONFLICT: { status: 409, message: 'Conflicts with stored data' },
  TOCDO_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'Body is larger than the limit' },
  TOCDO_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type or content encoding' },
  TOCDO_ERR_UNSUPPORTED_SCHEMA: { status: 422, message: 'Unsupported schema version' },
  TOCDO_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  TOCDO_ERR_SERVER_BUSY: { status: 503, message: 'Server is at capacity' },
  TOCDO_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  TOCDO_ERR_UNKNOWN_AREA: { status: 404, message: 'Unknown administrative unit' },
  TOCDO_ERR_ENROLMENT_CODE: { status: 400, message: 'Enrolment code is invalid, used or expired' },
  TOCDO_ERR_MEASUREMENT_FAILED: { status: 500, message: 'Measurement failed' },
  TOCDO_ERR_SERVER_UNREACHABLE: { status: 502, message: 'Test server could not be reached' },
  TOCDO_ERR_NOT_ENROLLED: { status: 400, message: 'Agent is not enrolled' },
  TOCDO_ERR_COLLECTOR_UNREACHABLE: { status: 502, message: 'Collector could not be reached' },
  TOCDO_ERR_OUTBOX_FULL: { status: 507, message: 'Agent outbox is full' },
  TOCDO_ERR_DATABASE_UNREACHABLE: { status: 503, message: 'Database could not be reached' }
} as const satisfies Record<string, { status: number, message: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export class TocdoError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  /** Machine-readable detail, e.g. the failing field; never secrets. */
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message?: string, options: { cause?: unknown, details?: Record<string, unknown> } = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TocdoError'
    this.code = code
    this.statusCode = ERROR_CODES[code].status
    this.details = options.details
  }
}

export function isTocdoError (err: unknown): err is TocdoError {
  return typeof err === 'object' && err !== null && 'code' in err &&
    typeof (err as { code: unknown }).code === 'string' &&
    (err as { code: string }).code in ERROR_CODES
}
