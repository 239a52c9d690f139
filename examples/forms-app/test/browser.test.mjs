// Browser tests of the example app, in Debian's Chromium driven by
// playwright-core, against a running stack: the app server (server.mjs) in
// front of real PostgREST and PostgreSQL with pg_lowcode. test/t/340 starts
// the stack and runs this file with APP_URL set; each failing test leaves a
// screenshot in SCREENSHOT_DIR.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const appUrl = process.env.APP_URL;
const shots = process.env.SCREENSHOT_DIR ?? '/tmp';
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!appUrl) throw new Error('APP_URL is not set: run this through test/t/340_forms_app_browser.pl');
mkdirSync(shots, { recursive: true });

let browser;
let page;
let current = 'start';

before(async () => {
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});
after(async () => { await browser?.close(); });
afterEach(async (t) => {
  // a screenshot of every step: on failure it shows what the user saw, and the docs use the good ones
  if (page) await page.screenshot({ path: `${shots}/${current}.png`, fullPage: true }).catch(() => {});
});

async function signIn(tenant, user) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(appUrl);
  await page.fill('#tenant', tenant);
  await page.fill('#user', user);
  await page.click('#sign-in');
  await page.waitForSelector('#who');
  return page;
}

const fieldErrors = (id) => page.locator(`.form-group:has(#${id}) .text-danger, .form-group:has(#${id}) .error-detail li`);

test('sign in, choose a form from the registry, fields in the author order with their titles', async () => {
  current = '1-form';
  await signIn('acme', 'ann@acme.example');
  assert.match(await page.textContent('#who'), /ann@acme\.example @ acme/);
  await page.click('button[data-subject="leave-request"]');
  await page.waitForSelector('#root_start_date');
  const labels = await page.locator('form.rjsf > .form-group > fieldset > .form-group label, form.rjsf .form-group > label').allTextContents();
  const names = labels.map((l) => l.replace(/\*$/, '').trim()).filter(Boolean);
  assert.deepEqual(names.slice(0, 4), ['Employee', 'First day', 'Last day', 'Days off']);
});

test('ajv errors appear live next to the field', async () => {
  current = '2-live-error';
  await page.fill('#root_days', '-2');
  await page.locator('#root_days').blur();
  await assert.doesNotReject(fieldErrors('root_days').first().waitFor());
  assert.match((await fieldErrors('root_days').allTextContents()).join(' '), /must be >= 1/);
  await page.fill('#root_days', '3');
});

test('a cross-field rule refused by the server lands next to the same field (422)', async () => {
  current = '3-server-error';
  await page.fill('#root_employee', 'Ann');
  await page.fill('#root_start_date', '2026-05-04');
  await page.fill('#root_end_date', '2026-05-02');
  await page.click('form.rjsf button[type=submit]');
  await page.waitForSelector('#problem');
  assert.match(await page.textContent('#problem'), /server refused the form \(1 error\)/);
  assert.match((await fieldErrors('root_end_date').allTextContents()).join(' '), /the last day must not be before the first day/);
});

test('a valid submission is stored and listed', async () => {
  current = '4-submitted';
  await page.fill('#root_end_date', '2026-05-06');
  await page.click('form.rjsf button[type=submit]');
  await page.waitForSelector('#notice');
  await page.waitForSelector('#submissions tbody tr');
  const rows = await page.locator('#submissions tbody tr').allTextContents();
  assert.equal(rows.length, 1);
  assert.match(rows[0], /ann@acme\.example/);
  assert.match(rows[0], /2026-05-06/);
});

test('a second tenant sees none of it', async () => {
  current = '5-other-tenant';
  await signIn('globex', 'bob@globex.example');
  await page.waitForSelector('#no-forms');
  assert.equal(await page.locator('button[data-subject]').count(), 0);
});
