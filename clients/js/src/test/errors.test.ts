import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseError, parseErrorList, ValidationError, RateLimitError, SessionError, TenantError, QuotaError,
  RegistryError, LowcodeError,
} from '../index.js';

test('LG012 becomes a ValidationError with the error list parsed from details', () => {
  const list = [{ instancePath: '/age', schemaPath: '#/properties/age/minimum', keyword: 'minimum', params: { comparison: '>=', limit: 18 }, message: 'must be >= 18' }];
  const e = parseError(422, { code: 'LG012', message: 'the data does not validate', details: JSON.stringify(list), hint: null });
  assert.ok(e instanceof ValidationError);
  assert.equal(e.status, 422);
  assert.deepEqual((e as ValidationError).errors, list);
});

test('an error list wrapped in {errors: [...]} and garbage details are handled', () => {
  assert.equal(parseErrorList(JSON.stringify({ errors: [{ instancePath: '', keyword: 'x', schemaPath: '#', params: {}, message: 'm' }] })).length, 1);
  assert.deepEqual(parseErrorList('not json'), []);
  assert.deepEqual(parseErrorList(null), []);
  assert.deepEqual(parseErrorList(JSON.stringify([1, 'x', { keyword: 'no path' }])), []);
});

test('429 gives a RateLimitError whose retryAfter comes from the header', () => {
  const h = new Headers({ 'Retry-After': '7' });
  const e = parseError(429, { code: 'LQ429', message: 'rate limit' }, h);
  assert.ok(e instanceof RateLimitError);
  assert.equal((e as RateLimitError).retryAfter, 7);
  const e2 = parseError(429, { code: 'LQ430', message: 'session rate' }, {});
  assert.equal((e2 as RateLimitError).retryAfter, 1, 'no header: one second');
});

test('session, tenant, quota and registry codes map to their classes', () => {
  const s = parseError(401, { code: 'LS401', message: 'unknown session' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  assert.ok(s instanceof SessionError);
  assert.equal((s as SessionError).wwwAuthenticate, 'Bearer error="invalid_token"');
  assert.ok(parseError(401, { code: 'LT401' }) instanceof TenantError);
  assert.ok(parseError(403, { code: 'LT423' }) instanceof TenantError);
  assert.ok(parseError(403, { code: 'LQ403' }) instanceof QuotaError);
  assert.ok(parseError(404, { code: 'LG404' }) instanceof RegistryError);
  const other = parseError(404, { code: 'PGRST202', message: 'no function' });
  assert.ok(other instanceof LowcodeError && !(other instanceof RegistryError));
  assert.equal(parseError(500, 'plain text').message, 'plain text');
});
