// SchemaStore checkout -> the input of test/schemastore/run.sh, in OUT:
//   pairs.jsonl  {"schema": name, "file": path, "expected": true|false, "instance": ...} per test file
//                (src/test/NAME/* must be valid, src/negative_test/NAME/* invalid, as SchemaStore's cli.js)
//   docs.jsonl   {"name": name, "uri": [uris...], "doc": schema} per schema of src/schemas/json
//   skipped.tsv  name<TAB>file<TAB>reason for what is left out
// Files are parsed with the parsers SchemaStore itself uses (yaml, smol-toml,
// jsonc-parser); schemas listed under "skiptest" are left out, as there.
//   node test/schemastore/prepare.js CHECKOUT OUT
'use strict';
const fs = require('fs');
const path = require('path');
const lib = path.join(__dirname, '../../bench/ajv/node_modules');
const YAML = require(path.join(lib, 'yaml'));
const TOML = require(path.join(lib, 'smol-toml'));
const jsonc = require(path.join(lib, 'jsonc-parser'));

const [checkout, out] = process.argv.slice(2);
const src = path.join(checkout, 'src');
const validation = jsonc.parse(fs.readFileSync(path.join(src, 'schema-validation.jsonc'), 'utf8'));
const skiptest = new Set(validation.skiptest || []);

function parse(file) {
  const text = fs.readFileSync(file, 'utf8');
  switch (path.extname(file)) {
    case '.json': return JSON.parse(text);
    case '.jsonc': case '.json5': return jsonc.parse(text);
    case '.yaml': case '.yml': return YAML.parse(text);
    case '.toml': return TOML.parse(text);
    default: throw new Error('no parser for ' + path.extname(file));
  }
}

const pairs = fs.createWriteStream(path.join(out, 'pairs.jsonl'));
const docs = fs.createWriteStream(path.join(out, 'docs.jsonl'));
const skipped = [];
const schemaDir = path.join(src, 'schemas/json');
for (const f of fs.readdirSync(schemaDir).sort()) {
  if (!f.endsWith('.json')) continue;
  let doc;
  try { doc = JSON.parse(fs.readFileSync(path.join(schemaDir, f), 'utf8')); } catch (e) {
    skipped.push([f, '', 'schema does not parse: ' + e.message]); continue;
  }
  if (JSON.stringify(doc).includes('\\u0000')) {
    skipped.push([f, '', 'schema holds U+0000 (in a pattern), which jsonb cannot store; its test files are left out too']);
    continue;
  }
  const uris = new Set(['https://json.schemastore.org/' + f]);
  if (doc && typeof doc === 'object') {
    for (const k of ['$id', 'id']) if (typeof doc[k] === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(doc[k])) uris.add(doc[k].replace(/#$/, ''));
  }
  docs.write(JSON.stringify({ name: f, uri: [...uris], doc }) + '\n');
  const base = f.replace(/\.json$/, '');
  for (const [dir, expected] of [['test', true], ['negative_test', false]]) {
    const d = path.join(src, dir, base);
    if (!fs.existsSync(d)) continue;
    for (const t of fs.readdirSync(d).sort()) {
      const file = path.join(dir, base, t);
      if (skiptest.has(f)) { skipped.push([f, file, 'listed under skiptest in schema-validation.jsonc']); continue; }
      let instance;
      try { instance = parse(path.join(src, file)); } catch (e) { skipped.push([f, file, 'test file does not parse: ' + e.message]); continue; }
      if (instance === undefined) { skipped.push([f, file, 'empty test file']); continue; }
      // jsonb cannot hold U+0000 in a string
      const text = JSON.stringify(instance);
      if (text.includes('\\u0000')) { skipped.push([f, file, 'holds U+0000, which jsonb cannot store']); continue; }
      pairs.write(JSON.stringify({ schema: f, file, expected, instance }) + '\n');
    }
  }
}
pairs.end(); docs.end();
fs.writeFileSync(path.join(out, 'skipped.tsv'), skipped.map((r) => r.join('\t')).join('\n') + (skipped.length ? '\n' : ''));
