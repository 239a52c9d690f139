#!/usr/bin/env node
/**
 * rules-agreement: evaluates the CEL conformance tests and the JsonLogic
 * tests of ../shared/testdata with the browser engines (cel-js through
 * evalCel, json-logic-js through applyJsonLogic) and prints one JSON line per
 * case: {suite, id, expr|rule, data, result: {value} | {error}}.
 *
 * test/t/330_client_rules_agreement.pl runs the same cases in the database
 * (lowcode.rule_eval, lowcode.jsonlogic_apply) and compares. Only cases a
 * front end can meet are kept: CEL tests without a container or type
 * environment whose bindings are plain JSON (int64, double, string, bool,
 * null, lists, maps with string keys), since a form's data is JSON.
 *
 *   node dist/tools/rules-agreement.js TESTDATA_DIR
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { evalCel, applyJsonLogic, type Json } from '../rules.js';

type ProtoValue = Record<string, unknown>;

class NotJson extends Error {}

/** A cel.expr.Value (proto3 JSON) as plain JSON, or NotJson. */
function protoToJson(v: ProtoValue): Json {
  if ('int64_value' in v) {
    const n = Number(v.int64_value);
    if (!Number.isSafeInteger(n)) throw new NotJson();
    return n;
  }
  if ('double_value' in v) {
    const d = v.double_value;
    if (typeof d !== 'number' || Number.isInteger(d)) throw new NotJson(); // integral doubles would be ints in JSON
    return d;
  }
  if ('string_value' in v) return v.string_value as string;
  if ('bool_value' in v) return v.bool_value as boolean;
  if ('null_value' in v) return null;
  if ('list_value' in v) return (((v.list_value as { values?: ProtoValue[] }).values) ?? []).map(protoToJson);
  if ('map_value' in v) {
    const out: Record<string, Json> = {};
    for (const e of ((v.map_value as { entries?: { key: ProtoValue; value: ProtoValue }[] }).entries ?? [])) {
      if (!('string_value' in e.key)) throw new NotJson();
      out[e.key.string_value as string] = protoToJson(e.value);
    }
    return out;
  }
  throw new NotJson();
}

function run(fn: () => Json): { value: Json } | { error: string } {
  try {
    return { value: fn() };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

function main(dir: string): void {
  const celDir = join(dir, 'cel-spec');
  for (const f of readdirSync(celDir).filter((n) => n.endsWith('.json')).sort()) {
    const file = JSON.parse(readFileSync(join(celDir, f), 'utf8'));
    for (const section of file.section ?? []) {
      for (const t of section.test ?? []) {
        if (t.container || t.type_env) continue;
        let data: Record<string, Json> = {};
        try {
          for (const [k, b] of Object.entries((t.bindings ?? {}) as Record<string, { value?: ProtoValue }>)) {
            if (!b.value) throw new NotJson();
            data[k] = protoToJson(b.value);
          }
        } catch (e) {
          if (e instanceof NotJson) continue;
          throw e;
        }
        const id = `${file.name}/${section.name}/${t.name}`;
        process.stdout.write(JSON.stringify({ suite: 'cel', id, expr: t.expr, data, result: run(() => evalCel(t.expr, data)) }) + '\n');
      }
    }
  }
  const tests = JSON.parse(readFileSync(join(dir, 'jsonlogic', 'tests.json'), 'utf8')) as unknown[];
  let section = 'start';
  let i = 0;
  for (const t of tests) {
    if (typeof t === 'string') { section = t.replace(/^#\s*/, ''); i = 0; continue; }
    const [rule, data] = t as [Json, Json, Json];
    i++;
    const id = `jsonlogic/${section}/${i}`;
    process.stdout.write(JSON.stringify({ suite: 'jsonlogic', id, rule, data, result: run(() => applyJsonLogic(rule, data)) }) + '\n');
  }
}

main(process.argv[2] ?? '../../../shared/testdata');
