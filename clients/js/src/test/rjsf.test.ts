import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toExtraErrors, toRjsfErrors, pointerSegments, type AjvError } from '../index.js';

const e = (instancePath: string, keyword: string, message: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): AjvError =>
  ({ instancePath, schemaPath: `#/${keyword}`, keyword, params, message, ...extra });

test('required errors land on the missing field, nested and in array items', () => {
  const errors = [
    e('', 'required', "must have required property 'email'", { missingProperty: 'email' }),
    e('/items/1', 'required', "must have required property 'qty'", { missingProperty: 'qty' }),
    e('/items/0/qty', 'minimum', 'must be >= 1', { comparison: '>=', limit: 1 }),
    e('/end_date', 'x-rules', 'the end date must not be before the start date'),
  ];
  assert.deepEqual(toExtraErrors(errors), {
    email: { __errors: ["must have required property 'email'"] },
    items: { 1: { qty: { __errors: ["must have required property 'qty'"] } }, 0: { qty: { __errors: ['must be >= 1'] } } },
    end_date: { __errors: ['the end date must not be before the start date'] },
  });
  const r = toRjsfErrors(errors);
  assert.deepEqual(r.map((x) => x.property), ['.email', '.items.1.qty', '.items.0.qty', '.end_date']);
  assert.equal(r[2].name, 'minimum');
  assert.equal(r[2].stack, '.items.0.qty must be >= 1');
});

test('root errors go to the root __errors; warnings are left out unless asked', () => {
  const errors = [e('', 'type', 'must be object'), e('/a', 'x-rules', 'looks odd', {}, { severity: 'warning' })];
  assert.deepEqual(toExtraErrors(errors), { __errors: ['must be object'] });
  assert.deepEqual(toExtraErrors(errors, { includeWarnings: true }), { __errors: ['must be object'], a: { __errors: ['looks odd'] } });
});

test('JSON pointer escapes and odd property names', () => {
  assert.deepEqual(pointerSegments('/a~1b/c~0d/0'), ['a/b', 'c~d', '0']);
  assert.deepEqual(pointerSegments(''), []);
  const r = toRjsfErrors([e('/first name', 'minLength', 'too short')]);
  assert.equal(r[0].property, "['first name']");
  assert.deepEqual(toExtraErrors([e('/a~1b', 'type', 'bad')]), { 'a/b': { __errors: ['bad'] } });
});
