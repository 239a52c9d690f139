import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalCel, testCel, applyJsonLogic, toCelValue } from '../index.js';

test('CEL over JSON data as the database types it', () => {
  assert.equal(testCel('amount > 1000 && customer.tier == "gold"', { amount: 1500, customer: { tier: 'gold' } }), true);
  assert.equal(evalCel('x * 2', { x: 21 }), 42);
  assert.equal(evalCel('x * 2.0', { x: 2.5 }), 5);
  assert.equal(toCelValue(3), 3n);
  assert.equal(toCelValue(3.5), 3.5);
  assert.throws(() => evalCel('x +', {}));
  assert.throws(() => testCel('1 + 1', {}), /not a boolean/);
});

test('JsonLogic as json-logic-js', () => {
  assert.equal(applyJsonLogic({ if: [{ '>': [{ var: 'amount' }, 1000] }, 'review', 'auto'] }, { amount: 1500 }), 'review');
  assert.equal(applyJsonLogic({ '==': [1, '1'] }), true);
});
