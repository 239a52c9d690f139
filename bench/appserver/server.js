// The app server a team would write instead of putting validation in the
// database: fastify + ajv + pg, serving the same two requests as PostgREST in
// bench/postgrest_http.sh, for the side-by-side HTTP comparison of issue 21.
//
//   POST /rpc/submit   {"subject": "order", "data": {...}}: JWT check (HS256),
//                      the session looked up when the JWT names one ("sid"), a
//                      per-tenant token bucket, the form validated by ajv (with
//                      formats, all errors), the cross-field rule in JS, one
//                      INSERT ... RETURNING; 200 with the row, 422 with ajv's
//                      errors, 401/403/429 as PostgREST + pg_lowcode answer
//   GET /notes?id=eq.N the caller's tenant's row, as a JSON array
//
// What it does not do, and pg_lowcode does, is listed in docs/benchmarks.md
// (no audit row, no event, no RLS: the tenant filter is the app's WHERE).
//
// Environment: APP_PORT, APP_PGHOST (socket directory), APP_PGPORT, APP_PGUSER,
// APP_PGDATABASE, APP_POOL (connections per worker process), APP_WORKERS
// (processes, node:cluster; default: the number of CPUs), APP_JWT_SECRET,
// APP_SCHEMA (the form's JSON Schema as JSON text).
'use strict';

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const os = require('node:os');

const workers = Number(process.env.APP_WORKERS || os.availableParallelism());

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (w, code) => {
    if (code !== 0) { console.error(`appserver: worker ${w.process.pid} exited with ${code}`); process.exit(1); }
  });
} else {
  serve();
}

function serve() {
  const fastify = require('fastify')({ logger: false });
  const Ajv = require('ajv');
  const addFormats = require('ajv-formats');
  const { Pool } = require('pg');

  const secret = Buffer.from(process.env.APP_JWT_SECRET || '', 'utf8');
  if (secret.length < 32) throw new Error('APP_JWT_SECRET must hold at least 32 bytes');
  const pool = new Pool({
    host: process.env.APP_PGHOST, port: Number(process.env.APP_PGPORT || 5432),
    user: process.env.APP_PGUSER, database: process.env.APP_PGDATABASE,
    max: Number(process.env.APP_POOL || 10),
  });
  const ajv = new Ajv({ allErrors: true });
  addFormats(ajv);
  const validateOrder = ajv.compile(JSON.parse(process.env.APP_SCHEMA));

  // HS256 JWT: signature (constant time), then exp when present
  function claimsOf(req) {
    const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(req.headers.authorization || '');
    if (!m) return null;
    const mac = crypto.createHmac('sha256', secret).update(`${m[1]}.${m[2]}`).digest();
    const sig = Buffer.from(m[3], 'base64url');
    if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return null;
    let claims;
    try { claims = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8')); } catch { return null; }
    if (claims.exp !== undefined && claims.exp < Date.now() / 1000) return null;
    return claims;
  }

  // per-tenant token bucket, in this process's memory
  const buckets = new Map();
  const rate = 2000000000, burst = 2000000000;
  function admitted(tenant) {
    const now = Date.now() / 1000;
    let b = buckets.get(tenant);
    if (!b) { b = { tokens: burst, at: now }; buckets.set(tenant, b); }
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // the request's tenant, or a reply already sent
  async function authorize(req, reply) {
    const claims = claimsOf(req);
    if (!claims || typeof claims.tenant_id !== 'string' || !uuid.test(claims.tenant_id)) {
      reply.code(401).send({ code: 'LT401', message: 'no tenant for this request' });
      return null;
    }
    if (claims.sid !== undefined) {
      const s = await pool.query(
        `SELECT 1 FROM lowcode.sessions WHERE id = $1 AND tenant_id = $2 AND state = 'active'
            AND expires_at > now() AND absolute_expires_at > now()`, [claims.sid, claims.tenant_id]);
      if (s.rowCount !== 1) {
        reply.code(401).send({ code: 'LS401', message: 'no valid session' });
        return null;
      }
    }
    if (!admitted(claims.tenant_id)) {
      reply.code(429).header('Retry-After', '1').send({ code: 'LQ429', message: 'rate limit exceeded' });
      return null;
    }
    return claims.tenant_id;
  }

  fastify.post('/rpc/submit', async (req, reply) => {
    const tenant = await authorize(req, reply);
    if (!tenant) return reply;
    const { subject, data } = req.body || {};
    if (subject !== 'order') return reply.code(404).send({ code: 'LG002', message: 'no such subject' });
    if (!validateOrder(data)) {
      return reply.code(422).send({ code: 'LG012', message: 'the submission is not valid', errors: validateOrder.errors });
    }
    if (!(data.quantity <= 100)) {
      return reply.code(422).send({ code: 'LG012', message: 'the submission is not valid',
        errors: [{ instancePath: '/quantity', keyword: 'x-rules', message: 'at most 100 per order' }] });
    }
    const r = await pool.query(
      `INSERT INTO app.submissions (tenant_id, subject, data) VALUES ($1, $2, $3)
       RETURNING id, status, subject, created_at`, [tenant, subject, data]);
    return r.rows[0];
  });

  fastify.get('/notes', async (req, reply) => {
    const tenant = await authorize(req, reply);
    if (!tenant) return reply;
    const m = /^eq\.(\d+)$/.exec(req.query.id || '');
    if (!m) return reply.code(400).send({ code: 'PGRST100', message: 'id=eq.N expected' });
    const r = await pool.query('SELECT id, tenant_id, title, body FROM api.notes WHERE tenant_id = $1 AND id = $2',
      [tenant, m[1]]);
    return r.rows;
  });

  fastify.get('/ready', async () => ({ ok: true }));

  fastify.listen({ host: '127.0.0.1', port: Number(process.env.APP_PORT) }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
