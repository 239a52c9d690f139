/**
 * Typed calls of pg_lowcode's HTTP API, as PostgREST serves it.
 *
 * Every call sends the request PostgREST expects (JWT as a bearer token, the
 * API schema as Accept-Profile / Content-Profile) and turns an error response
 * into the typed errors of errors.ts, keeping the headers (Retry-After,
 * WWW-Authenticate) that postgrest-js does not expose. `postgrest` is a
 * postgrest-js client on the same connection for free-form table queries.
 */
import { PostgrestClient } from '@supabase/postgrest-js';
import { parseError, type AjvError } from './errors.js';

export interface ClientOptions {
  /** PostgREST's base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The JWT of the signed-in user (claims: role, tenant_id, sid...). */
  token?: string;
  /** The schema PostgREST exposes pg_lowcode's endpoints in (docs/postgrest.md). */
  schema?: string;
  /** Extra headers on every request (Accept-Language, traceparent, a session token header...). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export interface FormSummary {
  subject: string;
  latest_version: number;
  description: string | null;
  global: boolean;
}

export interface ValidationResult {
  valid: boolean;
  errors: AjvError[];
}

export class LowcodeClient {
  readonly url: string;
  readonly schema: string;
  private token?: string;
  private readonly extraHeaders: Record<string, string>;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.schema = opts.schema ?? 'api';
    this.token = opts.token;
    this.extraHeaders = { ...(opts.headers ?? {}) };
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Use another JWT from now on (after sign-in, or when it was renewed). */
  setToken(token: string | undefined): void {
    this.token = token;
  }

  private headers(write: boolean): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json', ...this.extraHeaders };
    h[write ? 'Content-Profile' : 'Accept-Profile'] = this.schema;
    if (write) h['Content-Type'] = 'application/json';
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  /** One HTTP request; a non-2xx answer throws the matching LowcodeError. */
  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const write = method !== 'GET' && method !== 'HEAD';
    const res = await this.fetchFn(`${this.url}${path}`, {
      method,
      headers: { ...this.headers(write), ...headers },
      body: write && body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try { parsed = JSON.parse(text); } catch { parsed = text; }
    }
    if (!res.ok) throw parseError(res.status, parsed, res.headers);
    return parsed as T;
  }

  /** POST /rpc/NAME with JSON arguments. */
  rpc<T = unknown>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    return this.request<T>('POST', `/rpc/${encodeURIComponent(name)}`, args);
  }

  /** A postgrest-js client on the same URL, schema and token, for table queries. */
  get postgrest(): PostgrestClient<any, any, string> {
    const h = this.headers(false);
    delete h['Accept-Profile'];
    return new PostgrestClient(this.url, { headers: h, schema: this.schema, fetch: this.fetchFn });
  }

  // --- registry -----------------------------------------------------------

  /** The forms (subjects) the tenant sees, with their latest enabled version (GET /forms). */
  listForms<T = FormSummary>(): Promise<T[]> {
    return this.request<T[]>('GET', '/forms?select=subject,latest_version,description,global&order=subject');
  }

  /**
   * The JSON Schema of a version of a subject (the latest enabled one when `version` is omitted), in its author's
   * key order: the api schema's get_schema is get_form (pg_lowcode 0.3.0).
   */
  getSchema<T = Record<string, unknown>>(subject: string, version?: number): Promise<T> {
    return this.rpc<T>('get_schema', version === undefined ? { subject } : { subject, version });
  }

  /**
   * The schema of a version in its author's key order (the order a form shows its fields): get_form returns the
   * text as registered (register_form, or the api schema's register_schema).
   */
  getForm<T = Record<string, unknown>>(subject: string, version?: number): Promise<T> {
    return this.rpc<T>('get_form', version === undefined ? { subject } : { subject, version });
  }

  /** Register a new version of a subject keeping its key order (register_form); RegistryError (409) when incompatible. */
  registerForm(subject: string, schema: Record<string, unknown>, description?: string): Promise<unknown> {
    return this.rpc('register_form', description === undefined ? { subject, schema } : { subject, schema, description });
  }

  /** Register a new version of a subject; throws RegistryError (409) when it is incompatible. */
  registerSchema(subject: string, schema: Record<string, unknown>, description?: string): Promise<unknown> {
    return this.rpc('register_schema', description === undefined ? { subject, schema } : { subject, schema, description });
  }

  // --- validation and submissions -------------------------------------------

  /** Validate data against a registered subject without storing anything: {valid, errors}. */
  validate(subject: string, instance: unknown, version?: number): Promise<ValidationResult> {
    return this.rpc<ValidationResult>('validate', version === undefined ? { subject, instance } : { subject, instance, version });
  }

  /** Submit form data; throws ValidationError (422, LG012) with the error list when it does not validate. */
  submit<T = unknown>(subject: string, data: unknown, version?: number): Promise<T> {
    return this.rpc<T>('submit', version === undefined ? { subject, data } : { subject, data, version });
  }

  /** The tenant's submissions of a subject, newest first (GET /submissions). */
  listSubmissions<T = Record<string, unknown>>(subject: string, limit = 50): Promise<T[]> {
    return this.request<T[]>('GET', `/submissions?subject=eq.${encodeURIComponent(subject)}&order=created_at.desc&limit=${limit}`);
  }

  // --- sessions -------------------------------------------------------------

  /** The current session (from the JWT's sid). */
  sessionInfo<T = Record<string, unknown>>(): Promise<T> {
    return this.rpc<T>('session_info');
  }

  /** End (revoke) the current session. */
  endSession(): Promise<unknown> {
    return this.rpc('end_session');
  }
}
