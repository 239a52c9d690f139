import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaToTypeScript, typeName } from '../index.js';

test('a form schema becomes types with required and optional fields in the author order', () => {
  const ts = schemaToTypeScript({
    type: 'object', required: ['email'], additionalProperties: false,
    properties: {
      email: { type: 'string', title: 'E-mail' },
      age: { type: 'integer' },
      tier: { enum: ['gold', 'silver'] },
      items: { type: 'array', items: { $ref: '#/$defs/line' } },
      note: { type: ['string', 'null'] },
    },
    $defs: { line: { type: 'object', required: ['qty'], properties: { qty: { type: 'number' } } } },
  }, 'leave-request');
  assert.match(ts, /export type Line = \{\n  qty: number;\n  \[key: string\]: unknown;\n\};/);
  assert.match(ts, /export type LeaveRequest = \{\n  \/\*\* E-mail \*\/\n  email: string;\n  age\?: number;\n  tier\?: "gold" \| "silver";\n  items\?: Line\[\];\n  note\?: \(string \| null\);\n\};/);
  assert.equal(typeName('2fa setup'), 'T2faSetup');
});
