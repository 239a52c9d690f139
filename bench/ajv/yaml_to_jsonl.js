// YAML or JSON test documents -> JSON lines (one document per line, sorted
// by file name), for bench/jsonschema_vs_ajv.sh and the SchemaStore runner.
//   node bench/ajv/yaml_to_jsonl.js FILE...
'use strict';
const fs = require('fs');
const YAML = require('yaml');          // the parser SchemaStore's runner uses

for (const f of process.argv.slice(2).sort()) {
  const text = fs.readFileSync(f, 'utf8');
  // JSON first (a JSON document is YAML too, but yaml's number and key rules differ at the edges)
  let doc;
  try { doc = JSON.parse(text); } catch (e) { doc = YAML.parse(text); }
  process.stdout.write(JSON.stringify(doc) + '\n');
}
