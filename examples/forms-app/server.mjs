#!/usr/bin/env node
// The example app's server: serves the built app (dist/), proxies /api/* to
// PostgREST (same origin, so the browser needs no CORS), and plays the
// identity back end of a real deployment: /auth/login creates a pg_lowcode
// session for a demo user (lowcode.create_session, as an operator role) and
// mints the HS256 JWT PostgREST verifies, carrying the tenant, the session id,
// the session's proof (lowcode.session_proof of its token) and the role; /auth/logout ends the session.
//
// Settings (environment):
//   APP_PORT          port to listen on, 127.0.0.1 (default 8080)
//   PGRST_URL         PostgREST's URL (default http://127.0.0.1:3000)
//   PGRST_JWT_SECRET  the jwt-secret PostgREST is configured with
//   API_SCHEMA        the schema PostgREST exposes pg_lowcode's endpoints in (default: PostgREST's first)
//   API_ROLE          the role of signed-in users (default authenticated)
//   DATABASE_URL      libpq URL of an operator connection (member of lowcode_operator)
//   DEMO_USERS        JSON {"tenant-slug": ["user", ...]} of who may sign in (default: any user of any tenant)
//   SESSION_HEADER    header PostgREST passes the opaque session token in (default x-session-token)
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = join(here, 'dist');
const port = Number(process.env.APP_PORT ?? 8080);
const pgrst = (process.env.PGRST_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const secret = process.env.PGRST_JWT_SECRET ?? '';
const apiSchema = process.env.API_SCHEMA ?? '';
const apiRole = process.env.API_ROLE ?? 'authenticated';
const sessionHeader = process.env.SESSION_HEADER ?? 'x-session-token';
const demoUsers = process.env.DEMO_USERS ? JSON.parse(process.env.DEMO_USERS) : null;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

const b64url = (b) => Buffer.from(b).toString('base64url');
export function mintJwt(claims, key) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.png': 'image/png' };

function send(res, status, body, headers = {}) {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'object' && !Buffer.isBuffer(body) ? 'application/json' : 'text/plain', ...headers });
  res.end(data);
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

async function login(req, res) {
  let input;
  try { input = JSON.parse((await readBody(req)).toString() || '{}'); } catch { return send(res, 400, { message: 'the body is not JSON' }); }
  const { tenant, user } = input;
  if (typeof tenant !== 'string' || typeof user !== 'string' || !user) return send(res, 400, { message: 'tenant and user are required' });
  if (demoUsers && !(demoUsers[tenant] ?? []).includes(user)) return send(res, 401, { message: `${user} is not a demo user of ${tenant}` });
  const t = await pool.query('SELECT id FROM lowcode.tenants WHERE slug = $1', [tenant]);
  if (t.rowCount === 0) return send(res, 401, { message: `no tenant ${tenant}` });
  const s = await pool.query('SELECT * FROM lowcode.create_session($1, $2)', [t.rows[0].id, user]);
  const row = s.rows[0];
  // a session is proven by its token, never by its id alone: the JWT carries the proof (docs/sessions.md)
  const proof = (await pool.query('SELECT lowcode.session_proof($1) AS p', [row.token])).rows[0].p;
  const now = Math.floor(Date.now() / 1000);
  const token = mintJwt({ role: apiRole, tenant_id: t.rows[0].id, sid: row.session_id, sid_proof: proof, sub: user, iat: now, exp: now + 3600 }, secret);
  send(res, 200, { jwt: token, sessionToken: row.token, tenant, tenantId: t.rows[0].id, user, apiSchema, sessionHeader });
}

async function proxy(req, res, path) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (['host', 'connection', 'content-length'].includes(k)) continue;
    headers[k] = v;
  }
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
  const r = await fetch(`${pgrst}${path}`, { method: req.method, headers, body });
  const out = Buffer.from(await r.arrayBuffer());
  const h = {};
  r.headers.forEach((v, k) => { if (!['content-encoding', 'transfer-encoding', 'connection', 'content-length'].includes(k)) h[k] = v; });
  res.writeHead(r.status, h);
  res.end(out);
}

async function serveStatic(res, path) {
  const file = normalize(join(dist, path === '/' ? 'index.html' : path));
  if (!file.startsWith(dist)) return send(res, 404, 'not found');
  try {
    send(res, 200, await readFile(file), { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  } catch {
    send(res, 404, 'not found');
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (url.pathname === '/auth/login' && req.method === 'POST') return await login(req, res);
    if (url.pathname === '/config.json') return send(res, 200, { apiSchema, sessionHeader });
    if (url.pathname.startsWith('/api/')) return await proxy(req, res, url.pathname.slice(4) + url.search);
    if (url.pathname === '/api') return await proxy(req, res, '/' + url.search);
    return await serveStatic(res, url.pathname);
  } catch (e) {
    send(res, 500, { message: e instanceof Error ? e.message : String(e) });
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`forms-app listening on http://127.0.0.1:${server.address().port}/\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { server.close(); pool.end().finally(() => process.exit(0)); });
