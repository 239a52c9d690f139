// The app-server side of issue 21's HTTP comparison (bench/postgrest_http.sh --appserver):
// what a team would write instead of PostgREST + pg_lowcode for POST /rpc/submit.
//
//   fastify        HTTP, JSON body parsing, one process (Node's event loop: one core)
//   JWT            HS256 verified in process (node:crypto), the caller's tenant_id from the claims
//   ajv 8          the subject's JSON Schema (read from the registry at start, compiled once,
//                  ajv-formats for "email"/"date"); the schema's x-rules written as JS by hand
//   pg             a pool of POOL connections; one statement per submission (its own transaction)
//                  writing the same three rows pg_lowcode writes: the submission, an audit row, an
//                  outbox event (tables of schema app, made by the benchmark; tenancy enforced here,
//                  in the WHERE/VALUES, not by row security)
//
// Environment: PORT, JWT_SECRET_FILE, SUBJECT (order), POOL (10), and libpq's PGHOST, PGPORT,
// PGUSER, PGDATABASE.  Answers 200 with {"id","subject","version","status","created_at"}, 422 with
// ajv's errors, 401 for a bad token.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const fastify = require('fastify')({ logger: false });
const Ajv = require('ajv/dist/2020');
const addFormats = require('ajv-formats');
const { Pool } = require('pg');

const secret = fs.readFileSync(process.env.JWT_SECRET_FILE, 'utf8').trim();
const subject = process.env.SUBJECT || 'order';
const pool = new Pool({ max: Number(process.env.POOL || 10) });

function verifyJwt(header) {
  if (!header || !header.startsWith('Bearer ')) return null;
  const parts = header.slice(7).split('.');
  if (parts.length !== 3) return null;
  const mac = crypto.createHmac('sha256', secret).update(parts[0] + '.' + parts[1]).digest();
  const sig = Buffer.from(parts[2], 'base64url');
  if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return null;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (claims.exp !== undefined && claims.exp * 1000 < Date.now()) return null;
  return claims;
}

const SUBMIT = {
  name: 'app_submit',
  text: `WITH s AS (INSERT INTO app.submissions (tenant_id, subject, version, data, created_by)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id, subject, version, status, created_at),
              a AS (INSERT INTO app.audit (tenant_id, actor, action, subject, version, details)
                    SELECT $1, $5, 'submission_created', s.subject, s.version,
                           jsonb_build_object('id', s.id, 'status', s.status) FROM s),
              e AS (INSERT INTO app.events (tenant_id, type, payload)
                    SELECT $1, 'registry.submission_created',
                           jsonb_build_object('id', s.id, 'status', s.status, 'subject', s.subject, 'version', s.version) FROM s)
         SELECT id, subject, version, status, created_at FROM s`,
};

async function main() {
  const r = await pool.query(
    `SELECT version, schema FROM lowcode.schema_versions
      WHERE subject = $1 AND state = 'enabled' AND deleted_at IS NULL ORDER BY version DESC LIMIT 1`, [subject]);
  if (r.rows.length !== 1) throw new Error(`no enabled version of ${subject}`);
  const version = r.rows[0].version;
  const schema = r.rows[0].schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  // the schema's x-rules, by hand: [{"rule": "quantity <= 100", "path": "/quantity"}]
  const rules = (data) => (data.quantity <= 100 ? [] :
    [{ instancePath: '/quantity', keyword: 'x-rules', message: 'at most 100 per order' }]);

  fastify.post('/rpc/submit', async (req, reply) => {
    const claims = verifyJwt(req.headers.authorization);
    if (!claims || typeof claims.tenant_id !== 'string') return reply.code(401).send({ message: 'invalid token' });
    const body = req.body || {};
    if (body.subject !== subject) return reply.code(404).send({ message: `no subject ${body.subject}` });
    const data = body.data;
    const errors = validate(data) ? rules(data) : validate.errors;
    if (errors.length) return reply.code(422).send({ code: 'LG012', details: errors });
    const res = await pool.query({ ...SUBMIT, values: [claims.tenant_id, subject, version, data, claims.sub || claims.role] });
    return res.rows[0];
  });
  await fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT || 0) });
  fs.writeFileSync(process.env.READY_FILE || '/dev/null', String(fastify.server.address().port));
}

main().catch((e) => { console.error(e); process.exit(1); });
