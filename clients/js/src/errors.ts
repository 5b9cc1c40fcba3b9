// Errors in the contract's shape, as one typed error.

export class ChatdError extends Error {
  /** HTTP status (REST), or 0 for an error frame or a transport failure. */
  readonly status: number;
  /** The contract's code: `invalid_request`, `unauthenticated`, `not_found`, ... */
  readonly code: string;
  /** Seconds to wait before retrying (429 and 503), when the server said. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = "ChatdError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** Worth trying again later, unchanged: overload, unavailability, transport loss. */
  get retryable(): boolean {
    return this.code === "rate_limited" || this.code === "unavailable" || this.code === "network";
  }
}

export function errorFrom(status: number, body: unknown, retryAfter?: number): ChatdError {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof e?.code === "string" ? e.code : status >= 500 ? "internal" : "unknown";
  const message = typeof e?.message === "string" ? e.message : `HTTP ${status}`;
  return new ChatdError(status, code, message, retryAfter);
}
