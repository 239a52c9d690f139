import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRetry, parseError, RateLimitError } from '../index.js';

const limited = (s: string) => parseError(429, { code: 'LQ429', message: 'rate' }, { 'retry-after': s });

test('waits Retry-After seconds and tries again', async () => {
  const waits: number[] = [];
  let calls = 0;
  const r = await withRetry(async () => { if (++calls < 3) throw limited('2'); return 'ok'; }, { sleep: async (ms) => { waits.push(ms); } });
  assert.equal(r, 'ok');
  assert.deepEqual(waits, [2000, 2000]);
});

test('gives up after the attempts, on a long wait, and on other errors', async () => {
  await assert.rejects(withRetry(async () => { throw limited('1'); }, { attempts: 2, sleep: async () => {} }), RateLimitError);
  let calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw limited('3600'); }, { sleep: async () => {} }), RateLimitError);
  assert.equal(calls, 1, 'a Retry-After beyond maxWaitSeconds fails at once');
  calls = 0;
  await assert.rejects(withRetry(async () => { calls++; throw new Error('boom'); }, { sleep: async () => {} }), /boom/);
  assert.equal(calls, 1);
});
