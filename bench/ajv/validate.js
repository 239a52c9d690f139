// One round of ajv 8 for bench/jsonschema_vs_ajv.sh: for every workload
// (DIR/WORKLOAD.schema.json + DIR/WORKLOAD.jsonl, one document per line, the
// documents pg_lowcode validates in the same run) compile the schema, parse
// the documents, warm V8 up with WARMUP passes, then time one pass with
// process.cpuUsage() (user + system CPU of this process).  Prints
// "workload<TAB>us_per_doc<TAB>valid_docs<TAB>docs" per workload.
//   node bench/ajv/validate.js DIR WORKLOAD...
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');                 // draft-07 (the default dialect)
const Ajv2019 = require('ajv/dist/2019');
const Ajv2020 = require('ajv/dist/2020');

const [dir, ...workloads] = process.argv.slice(2);
const WARMUP = Number(process.env.AJV_WARMUP || 3);

for (const w of workloads) {
  const schema = JSON.parse(fs.readFileSync(path.join(dir, w + '.schema.json'), 'utf8'));
  const dialect = String(schema.$schema || '');
  const Cls = dialect.includes('2020-12') ? Ajv2020 : dialect.includes('2019-09') ? Ajv2019 : Ajv;
  // strict: false as SchemaStore runs schemas with unknown keywords; formats
  // are annotations in pg_lowcode's default, and ajv without ajv-formats
  // ignores them (validateFormats: false keeps it from complaining)
  const ajv = new Cls({ strict: false, validateFormats: false, allErrors: false });
  const validate = ajv.compile(schema);
  const docs = fs.readFileSync(path.join(dir, w + '.jsonl'), 'utf8')
    .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  let valid = 0;
  for (let i = 0; i < WARMUP; i++) for (const d of docs) validate(d);
  const t0 = process.cpuUsage();
  for (const d of docs) if (validate(d)) valid++;
  const t = process.cpuUsage(t0);
  const us = (t.user + t.system) / docs.length;
  process.stdout.write(`${w}\t${us.toFixed(4)}\t${valid}\t${docs.length}\n`);
}
