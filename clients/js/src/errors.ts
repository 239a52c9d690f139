/**
 * The errors pg_lowcode gives through PostgREST, as typed JavaScript errors.
 *
 * PostgREST answers an error with a JSON body {code, message, details, hint}
 * and an HTTP status. pg_lowcode's own errors (docs/errors.md) carry their
 * code there: LT401 (no tenant), LS401 (unknown, expired or revoked session),
 * LQ429 / LQ430 (rate limit, with a Retry-After header), LG012 (a submission
 * that does not validate: `details` is the JSON text of the error list), and
 * so on. parseError() turns one response into the most specific class, so a
 * front end can write `if (e instanceof ValidationError) ...`.
 */

/** One validation error in the ajv shape pg_lowcode returns (docs/jsonschema.md). */
export interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
  /** pg_lowcode extras: the failed x-rule's reason, severity... */
  [extra: string]: unknown;
}

/** The body PostgREST sends with an error. */
export interface PostgrestErrorBody {
  code?: string;
  message?: string;
  details?: string | null;
  hint?: string | null;
}

export class LowcodeError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string | null;
  readonly hint: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, body: PostgrestErrorBody, headers: Record<string, string> = {}) {
    super(body.message ?? `HTTP ${status}`);
    this.name = new.target.name;
    this.status = status;
    this.code = body.code ?? '';
    this.details = body.details ?? null;
    this.hint = body.hint ?? null;
    this.headers = headers;
  }
}

/** 401/403 from the tenancy step: no tenant (LT401), bad claim (LT400), unknown (LT403) or suspended (LT423) tenant. */
export class TenantError extends LowcodeError {}

/** 401 from the session step (LS401 and friends); `wwwAuthenticate` is the header PostgREST sent. */
export class SessionError extends LowcodeError {
  get wwwAuthenticate(): string | undefined {
    return this.headers['www-authenticate'];
  }
}

/** 429: the tenant (LQ429) or the session (LQ430) is over its rate. */
export class RateLimitError extends LowcodeError {
  /** Seconds to wait before the next try, from Retry-After (at least 1 when absent or unreadable). */
  get retryAfter(): number {
    const v = Number.parseInt(this.headers['retry-after'] ?? '', 10);
    return Number.isFinite(v) && v >= 0 ? v : 1;
  }
}

/** 403/413 from a quota (LQ4xx other than 429): rows, storage, sessions... */
export class QuotaError extends LowcodeError {}

/** 422 LG012: the submitted data does not validate; `errors` is the list in the ajv shape. */
export class ValidationError extends LowcodeError {
  readonly errors: AjvError[];

  constructor(status: number, body: PostgrestErrorBody, headers: Record<string, string> = {}) {
    super(status, body, headers);
    this.errors = parseErrorList(body.details);
  }
}

/** Registry errors: unknown subject or version (404), incompatible version (409), invalid schema (422). */
export class RegistryError extends LowcodeError {}

/** The error list of an LG012 error: `details` holds it as JSON text (an array, or {errors: [...]}). */
export function parseErrorList(details: string | null | undefined): AjvError[] {
  if (!details) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(details);
  } catch {
    return [];
  }
  const list = Array.isArray(parsed)
    ? parsed
    : parsed && typeof parsed === 'object' && Array.isArray((parsed as { errors?: unknown }).errors)
      ? (parsed as { errors: unknown[] }).errors
      : [];
  return list.filter((e): e is AjvError => !!e && typeof e === 'object' && typeof (e as AjvError).instancePath === 'string');
}

function headersToRecord(h: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (typeof (h as Headers).forEach === 'function' && typeof (h as Headers).get === 'function') {
    (h as Headers).forEach((v, k) => { out[k.toLowerCase()] = v; });
  } else {
    for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = String(v);
  }
  return out;
}

/**
 * The most specific error class for one error response.
 * `body` is the parsed JSON body (or anything else PostgREST sent).
 */
export function parseError(status: number, body: unknown, headers?: Headers | Record<string, string>): LowcodeError {
  const b: PostgrestErrorBody = body && typeof body === 'object' ? (body as PostgrestErrorBody) : { message: String(body ?? '') };
  const h = headersToRecord(headers);
  const code = b.code ?? '';
  if (code === 'LG012') return new ValidationError(status, b, h);
  if (status === 429 || code === 'LQ429' || code === 'LQ430') return new RateLimitError(status, b, h);
  if (code.startsWith('LS')) return new SessionError(status, b, h);
  if (code.startsWith('LT')) return new TenantError(status, b, h);
  if (code.startsWith('LQ')) return new QuotaError(status, b, h);
  if (code.startsWith('LG')) return new RegistryError(status, b, h);
  return new LowcodeError(status, b, h);
}
