/**
 * Incremental framing of one HTTP/1.1 response (RFC 9112 §6): the head, then a body
 * delimited by Content-Length, by chunked transfer coding, or by the connection's end.
 * Only the framing: what the body bytes mean is the caller's business. Payload bytes are
 * handed over as views of the caller's buffer, so a download can count them without a copy
 * (the measurement connection reads into one reused buffer).
 */

export interface ResponseHead {
  status: number
  /** Header names in lower case; repeated headers joined with ', '. */
  headers: Map<string, string>
}

export interface ResponseHandlers {
  onHead?: (head: ResponseHead) => void
  /** Payload bytes (chunk framing removed). The view is only valid during the call. */
  onBody?: (bytes: Buffer) => void
  onEnd: () => void
}

/** A response the agent cannot frame: the connection is unusable afterwards. */
export class ResponseFramingError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE'
}

const MAX_HEAD_BYTES = 16 * 1024
const MAX_LINE_BYTES = 1024

type BodyState =
  | { kind: 'head' }
  | { kind: 'length', left: number }
  | { kind: 'chunk-size', line: string }
  | { kind: 'chunk-data', left: number }
  | { kind: 'chunk-crlf', left: number }
  | { kind: 'trailer', line: string }
  | { kind: 'close' }
  | { kind: 'done' }

export class ResponseReader {
  #state: BodyState = { kind: 'head' }
  #head = ''
  readonly #h: ResponseHandlers
  /** HEAD requests and the like: the response has no body whatever its headers say. */
  readonly #noBody: boolean

  constructor (handlers: ResponseHandlers, opts: { noBody?: boolean } = {}) {
    this.#h = handlers
    this.#noBody = opts.noBody ?? false
  }

  get done (): boolean { return this.#state.kind === 'done' }

  /**
   * Feeds bytes read from the connection; returns how many belong to this response. Fewer
   * than `buf.length` means the response ended inside the buffer.
   */
  feed (buf: Buffer): number {
    let i = 0
    while (i < buf.length) {
      const s = this.#state
      switch (s.kind) {
        case 'done':
          return i
        case 'head':
          i = this.#feedHead(buf, i)
          break
        case 'length':
        case 'chunk-data': {
          const n = Math.min(s.left, buf.length - i)
          this.#h.onBody?.(buf.subarray(i, i + n))
          i += n
          s.left -= n
          if (s.left > 0) break
          if (s.kind === 'length') this.#end()
          else this.#state = { kind: 'chunk-crlf', left: 2 }
          break
        }
        case 'close':
          this.#h.onBody?.(buf.subarray(i))
          i = buf.length
          break
        case 'chunk-crlf': {
          const expected = s.left === 2 ? 0x0d : 0x0a
          if (buf[i] !== expected) throw new ResponseFramingError('chunk data is not followed by CRLF')
          i++
          s.left--
          if (s.left === 0) this.#state = { kind: 'chunk-size', line: '' }
          break
        }
        case 'chunk-size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, i)
          const upTo = nl < 0 ? buf.length : nl
          s.line += buf.toString('latin1', i, upTo)
          if (s.line.length > MAX_LINE_BYTES) throw new ResponseFramingError(`chunk ${s.kind === 'trailer' ? 'trailer' : 'size'} line is longer than ${MAX_LINE_BYTES} bytes`)
          i = upTo
          if (nl < 0) break
          i++
          const line = s.line.endsWith('\r') ? s.line.slice(0, -1) : s.line
          if (s.kind === 'trailer') {
            if (line === '') this.#end()
            else s.line = ''
            break
          }
          // Chunk extensions (";name=value") carry nothing the agent needs.
          const hex = (line.split(';')[0] as string).trim()
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ResponseFramingError(`chunk size "${line.slice(0, 40)}" is not hexadecimal`)
          const size = Number.parseInt(hex, 16)
          this.#state = size === 0 ? { kind: 'trailer', line: '' } : { kind: 'chunk-data', left: size }
          break
        }
      }
    }
    return i
  }

  /** The connection ended: completes a body delimited by the close, fails any other. */
  eof (): void {
    if (this.#state.kind === 'close') { this.#end(); return }
    if (this.#state.kind !== 'done') throw new ResponseFramingError(this.#state.kind === 'head' ? 'connection closed before the response head' : 'connection closed inside the response body')
  }

  #feedHead (buf: Buffer, from: number): number {
    // The head is small; searching the joined text also finds a CRLFCRLF split across reads.
    const before = this.#head.length
    this.#head += buf.toString('latin1', from, Math.min(buf.length, from + MAX_HEAD_BYTES + 4 - before))
    const end = this.#head.indexOf('\r\n\r\n')
    if (end < 0) {
      if (this.#head.length > MAX_HEAD_BYTES) throw new ResponseFramingError(`response head is longer than ${MAX_HEAD_BYTES} bytes`)
      return buf.length
    }
    const consumed = from + end + 4 - before
    const head = parseHead(this.#head.slice(0, end))
    this.#head = ''
    // 1xx responses (100 Continue) precede the real one.
    if (head.status >= 100 && head.status < 200) return consumed
    this.#h.onHead?.(head)
    const te = head.headers.get('transfer-encoding')
    const cl = head.headers.get('content-length')
    if (this.#noBody || head.status === 204 || head.status === 304) this.#end()
    else if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) this.#state = { kind: 'chunk-size', line: '' }
    else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl.trim())) throw new ResponseFramingError(`content-length "${cl.slice(0, 40)}" is not a number`)
      const left = Number(cl)
      if (left === 0) this.#end()
      else this.#state = { kind: 'length', left }
    } else this.#state = { kind: 'close' }
    return consumed
  }

  #end (): void {
    this.#state = { kind: 'done' }
    this.#h.onEnd()
  }
}

function parseHead (text: string): ResponseHead {
  const lines = text.split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '')
  if (m === null) throw new ResponseFramingError(`not an HTTP/1.x status line: "${(lines[0] ?? '').slice(0, 60)}"`)
  const headers = new Map<string, string>()
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new ResponseFramingError(`malformed header line "${line.slice(0, 60)}"`)
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    const prev = headers.get(name)
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`)
  }
  return { status: Number(m[1]), headers }
}
