/**
 * The same rules in the browser as in the database, for live feedback while
 * a user fills a form (the database stays the judge: it validates every
 * submission again).
 *
 * CEL runs on @marcbachmann/cel-js, JsonLogic on json-logic-js (the
 * reference implementation, whose semantics pg_lowcode's JsonLogic engine
 * follows). Data is converted as pg_lowcode converts jsonb (docs/rules.md):
 * a JSON number that is integral and fits in 64 bits is a CEL `int`, any
 * other number a `double`; results come back as JSON values (int -> number).
 */
import { Environment } from '@marcbachmann/cel-js';
import jsonLogic from 'json-logic-js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** JSON data as CEL values: integral numbers within 64 bits become BigInt (CEL int), as in the database. */
export function toCelValue(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      const b = BigInt(v);
      if (b >= INT64_MIN && b <= INT64_MAX) return b;
    }
    return v;
  }
  if (Array.isArray(v)) return v.map(toCelValue);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCelValue(x);
    return out;
  }
  return v;
}

/** A CEL result as JSON, the way lowcode.rule_eval returns it. */
export function fromCelValue(v: unknown): Json {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return 'Infinity';
    if (v === -Infinity) return '-Infinity';
    return v;
  }
  if (v instanceof Uint8Array) return btoa(String.fromCharCode(...v));
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (Array.isArray(v)) return v.map(fromCelValue);
  if (v instanceof Map) {
    const out: Record<string, Json> = {};
    for (const [k, x] of v) out[String(k)] = fromCelValue(x);
    return out;
  }
  if (v && typeof v === 'object') {
    if (typeof (v as { valueOf?: () => unknown }).valueOf === 'function' && (v as object).constructor?.name === 'UnsignedInt') {
      return Number((v as { valueOf: () => unknown }).valueOf());
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromCelValue(x);
    return out;
  }
  return v as Json;
}

/*
 * The environment closest to pg_lowcode's CEL: variables are dynamic (form
 * data has no declared types), list and map literals may mix types, and
 * optional types (.?field, optional.of) are on, as in the database.
 */
const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false, enableOptionalTypes: true });

type Compiled = ReturnType<Environment['parse']>;
const compiled = new Map<string, Compiled>();

/** Evaluate a CEL expression over JSON data (like lowcode.rule_eval). Throws on a parse or evaluation error. */
export function evalCel(expr: string, data: Record<string, unknown> = {}): Json {
  let fn = compiled.get(expr);
  if (!fn) {
    fn = env.parse(expr);
    if (compiled.size > 500) compiled.clear();
    compiled.set(expr, fn);
  }
  return fromCelValue(fn(toCelValue(data) as Record<string, unknown>));
}

/** Is a CEL rule true over the data (like lowcode.rule_test)? A non-boolean result is an error. */
export function testCel(expr: string, data: Record<string, unknown> = {}): boolean {
  const r = evalCel(expr, data);
  if (typeof r !== 'boolean') throw new TypeError(`the rule gave ${JSON.stringify(r)}, not a boolean`);
  return r;
}

/** Apply a JsonLogic rule to data (like lowcode.jsonlogic_apply). */
export function applyJsonLogic(rule: Json, data: Json = {}): Json {
  return jsonLogic.apply(rule as never, data as never) as Json;
}

