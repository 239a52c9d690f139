// The errors ajv 8 (pinned in package.json) gives for the invalid cases of the
// JSON Schema Test Suite (drafts 7 and 2020-12), with allErrors, one JSON line
// per case: {"key": "<draft>/<file> | <group> | <test>", "errors": [...]} or
// {"key", "ajv_failed": "<why>"} when ajv cannot compile the schema.
// Usage: node ajv_errors.js <suite dir>
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const Ajv2020 = require("ajv/dist/2020");

const suite = process.argv[2];
const remotesDir = path.join(suite, "remotes");

function remotes(dir, base, out) {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) remotes(p, base + f + "/", out);
    else if (f.endsWith(".json")) out.push([base + f, JSON.parse(fs.readFileSync(p, "utf8"))]);
  }
  return out;
}
const allRemotes = remotes(remotesDir, "http://localhost:1234/", []);

function makeAjv(draft) {
  const opts = { allErrors: true, strict: false, validateFormats: false, validateSchema: false, logger: false };
  const ajv = draft === "draft7" ? new Ajv(opts) : new Ajv2020(opts);
  for (const [uri, doc] of allRemotes) {
    // remotes written for other drafts are skipped when this dialect cannot take them
    try { ajv.addSchema(doc, uri); } catch (e) { /* not this draft's */ }
  }
  return ajv;
}

for (const draft of ["draft7", "draft2020-12"]) {
  const dir = path.join(suite, "tests", draft);
  for (const file of fs.readdirSync(dir).filter(f => f.endsWith(".json")).sort()) {
    const groups = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    for (const g of groups) {
      let validate = null, failed = null;
      try { validate = makeAjv(draft).compile(g.schema); } catch (e) { failed = String(e.message || e); }
      for (const t of g.tests) {
        if (t.valid) continue;
        const key = `${draft}/${file} | ${g.description} | ${t.description}`;
        if (failed) { process.stdout.write(JSON.stringify({ key, ajv_failed: failed }) + "\n"); continue; }
        let ok;
        try { ok = validate(t.data); } catch (e) { process.stdout.write(JSON.stringify({ key, ajv_failed: String(e.message || e) }) + "\n"); continue; }
        const errors = (validate.errors || []).map(e => ({
          instancePath: e.instancePath, schemaPath: e.schemaPath, keyword: e.keyword, params: e.params, message: e.message }));
        process.stdout.write(JSON.stringify({ key, valid: ok, errors }) + "\n");
      }
    }
  }
}
