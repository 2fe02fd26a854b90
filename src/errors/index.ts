/**
 * One error model. Every error the Worker raises on purpose is an {@link AppError}: a stable `code` (what the journal
 * and the logs record), the HTTP `httpStatus` it becomes when it reaches a caller, whether retrying can help, and the
 * `cause`. Two mappings, here and nowhere else: {@link toHttpAnswer} (what a caller is told: a code, never a message)
 * and {@link toStepFailure} (what a run records in the journal).
 */
export interface AppErrorOptions {
  httpStatus?: number;
  retryable?: boolean;
  /** Wait this long before retrying (a 429's Retry-After, the governor's next slot). */
  retryAfterMs?: number;
  /** The code a caller is told when it differs from `code` (e.g. every token failure is `token_unavailable`). */
  publicCode?: string;
  /** Identifiers safe to tell a caller (never a value of a secret, a token or a payload). */
  detail?: Record<string, string>;
  /** The HTTP status of an upstream answer behind the error (Logto's, the token endpoint's; 0 without one). */
  upstreamStatus?: number;
  cause?: unknown;
}

/** The fields are assigned by the constructor only (`declare`: no separate field definitions are emitted). */
export class AppError extends Error {
  declare readonly code: string;
  declare readonly httpStatus: number;
  declare readonly retryable: boolean;
  declare readonly retryAfterMs?: number;
  declare readonly publicCode: string;
  declare readonly detail: Record<string, string>;
  /** Recorded with a run's failure as its `status`. */
  declare readonly upstreamStatus?: number;
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.publicCode = options.publicCode ?? code;
    this.detail = options.detail ?? {};
    this.upstreamStatus = options.upstreamStatus;
  }
}

/**
 * Every code a caller of this Worker can receive in `{"error": …}`, and its status. Ingress answers (`/webhooks`,
 * `/callbacks`) use the first group; errors thrown anywhere become the second through {@link toHttpAnswer}.
 */
export const ANSWER_CODES = {
  payload_too_large: 413,
  invalid_signature: 401,
  stale_event: 401,
  future_event: 401,
  invalid_json: 400,
  invalid_payload: 400,
  unknown_provider: 404,
  provider_not_configured: 404,
  journal_unavailable: 503,
  configuration_error: 503,
  token_unavailable: 503,
  logto_error: 502,
  governor_wait: 503,
  timeout: 504,
  internal_error: 500,
} as const;
export type AnswerCode = keyof typeof ANSWER_CODES;

/** What a caller is told: the status and a code (and safe identifiers), never the error's message. */
export function toHttpAnswer(error: unknown): { status: number; body: Record<string, string> } {
  if (error instanceof AppError)
    return { status: error.httpStatus, body: { error: error.publicCode, ...error.detail } };
  return { status: 500, body: { error: 'internal_error' } };
}

/** A failed step, as stored in the step's result and then in the journal. Never holds a secret or a token. */
export interface StepFailure {
  /** Logto's error code (`entity.not_found`), an OAuth code (`invalid_client`) or ours (`timeout`, `config`). */
  code: string;
  message: string;
  /** Logto's HTTP status, when the failure is an answer of Logto's. */
  status?: number;
  /** False for what retrying cannot fix: 4xx other than 408/429, bad configuration, a rejected token. */
  retryable: boolean;
  /** Set on a 429 whose Retry-After the client did not wait inline: the step sleeps this long. */
  retryAfterMs?: number;
  /**
   * Not a failure of the call but a wait before it (the rate governor had no slot; an uncertain effect is settling):
   * the run sleeps `retryAfterMs` durably and does not count an attempt.
   */
  wait?: boolean;
}

/** The code of a wait for the rate governor (not an attempt). */
export const GOVERNOR_WAIT = 'governor_wait';
const MAX_MESSAGE = 300;
const cut = (message: string) => message.slice(0, MAX_MESSAGE);

/** What a run records for anything a step may throw. Unknown errors are retryable (bounded by attempts). */
export function toStepFailure(error: unknown): StepFailure {
  if (error instanceof AppError) {
    const upstream = error.upstreamStatus;
    return {
      code: error.code,
      message: cut(error.message),
      ...(upstream !== undefined ? { status: upstream } : {}),
      retryable: error.retryable,
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      ...(error.code === GOVERNOR_WAIT ? { wait: true } : {}),
    };
  }
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: name === 'TypeError' ? 'network_error' : 'unexpected',
    message: cut(message),
    retryable: true,
  };
}
