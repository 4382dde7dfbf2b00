// tests/browser/run.mjs: the SSL/TLS Certificates dialog in a real browser
// (headless Chromium through playwright-core) against the live stack that
// tests/lib/with-stack.sh started.  Plain node, no test framework: prints
// "ok NAME" or "FAIL NAME: reason" per test and "N passed, N failed".
// Exit: 0 all passed, 1 a test failed, 99 set-up missing (never a skip,
// unless CERTDIALOG_ALLOW_SKIP=1, then 77).
//
// Environment: CD_URL CD_USER CD_PASS CD_FIXTURES CD_TOP_BUILDDIR (from
// with-stack.sh), CD_NODE_MODULES (where playwright-core is; default
// $CD_TOP_SRCDIR/node_modules), CD_CHROMIUM (default /usr/bin/chromium),
// CD_BROWSER_ONLY (comma-separated test names to run).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const SRC = env.CD_TOP_SRCDIR || path.resolve(here, '../..');
const BUILD = env.CD_TOP_BUILDDIR || process.cwd();
const URL0 = env.CD_URL;
const USER = env.CD_USER || 'admin';
const PASS = env.CD_PASS;
const F = env.CD_FIXTURES || path.join(BUILD, 'tests/fixtures');
const CHROMIUM = env.CD_CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(BUILD, 'tests/browser/screenshots');
const TEST_TIMEOUT = 90_000;
const STEP_TIMEOUT = 15_000;

function setupFail(why) {
  console.log(`FAIL setup: ${why}`);
  if (env.CERTDIALOG_ALLOW_SKIP === '1') {
    console.log('skipped (CERTDIALOG_ALLOW_SKIP=1)');
    process.exit(77);
  }
  console.log('(scripts/check installs chromium and runs npm ci; CERTDIALOG_ALLOW_SKIP=1 skips)');
  process.exit(99);
}

if (!URL0 || !PASS) setupFail('CD_URL/CD_PASS unset: run me through tests/lib/with-stack.sh');
if (!fs.existsSync(path.join(F, 'good.pem'))) setupFail(`no fixtures in ${F}`);
if (!fs.existsSync(CHROMIUM)) setupFail(`${CHROMIUM} is missing (apt-get install chromium)`);
let chromium;
{
  const nm = env.CD_NODE_MODULES || path.join(SRC, 'node_modules');
  try {
    const req = createRequire(path.join(nm, 'noop.js'));
    ({ chromium } = req('playwright-core'));
  } catch (e) {
    setupFail(`playwright-core not found under ${nm} (npm ci): ${e.message.split('\n')[0]}`);
  }
}
fs.mkdirSync(SHOTS, { recursive: true });
const scratch = fs.mkdtempSync(path.join(env.TMPDIR || os.tmpdir(), 'cd-browser-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------- helpers
const fx = (name) => path.join(F, name);
const readFx = (name) => fs.readFileSync(fx(name), 'utf8');

function fpOf(file, inform = 'PEM') {
  const out = execFileSync('openssl', ['x509', '-inform', inform, '-in', file, '-noout',
    '-fingerprint', '-sha256'], { encoding: 'utf8', timeout: 10_000 });
  return out.trim().replace(/^.*=/, '').toUpperCase();
}
const fpDer = (buf) => createHash('sha256').update(buf).digest('hex').toUpperCase()
  .match(/../g).join(':');

class Failure extends Error {}
function check(cond, why) { if (!cond) throw new Failure(why); }
function eq(got, want, what) {
  if (got !== want) throw new Failure(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}
function has(text, want, what) {
  if (!String(text).includes(want)) {
    throw new Failure(`${what}: expected to contain ${JSON.stringify(want)}, got ${JSON.stringify(String(text).slice(0, 400))}`);
  }
}

let browser;
async function newContext(opts = {}) {
  const ctx = await browser.newContext({
    httpCredentials: { username: USER, password: PASS },
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1000, height: 900 },
    ...opts,
  });
  ctx.setDefaultTimeout(STEP_TIMEOUT);
  ctx.setDefaultNavigationTimeout(STEP_TIMEOUT);
  return ctx;
}

// The API as the admin, outside the page (state set-up and checks).
let apiCtx;
async function api(method, p, multipart) {
  // Connection: close: an install reloads nginx, whose old workers drop
  // idle kept-alive connections; a reused one would be reset.
  const r = await apiCtx.fetch(URL0 + p, { method, multipart, timeout: STEP_TIMEOUT, failOnStatusCode: false,
    headers: { Connection: 'close' } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  return { status: r.status(), body };
}
const file = (name, n = name) => ({ name: n, mimeType: 'application/octet-stream', buffer: fs.readFileSync(fx(name)) });
async function current() {
  const { status, body } = await api('GET', '/api/certificate');
  eq(status, 200, 'GET /api/certificate');
  return body;
}
async function ensureSelfSigned() {
  const c = await current();
  if (c.certificate && c.certificate.mode === 'self-signed' && c.certificate.days_left > 30) return c;
  const r = await api('POST', '/api/certificate', { mode: 'self-signed', confirm: 'yes' });
  eq(r.status, 200, 'installing a self-signed certificate through the API');
  return current();
}
async function installGood(name = 'api-good') {
  const r = await api('POST', '/api/certificate', {
    name, key: file('good.key'), crt: file('good.pem'), chain: file('chain-int-only.pem'),
    use_crl: 'off', validation: 'mandatory',
  });
  eq(r.status, 200, 'installing good.pem through the API');
  return current();
}

// The page, with a watch on CSP reports and script errors, and on any
// answer >= 400 while it loads (the dialog's own 422s come later, from
// the tests' clicks: the console's "status of 4xx" lines are theirs).
const IDLE_TIMEOUT = 5_000;
async function openDialog(ctx, problems) {
  const page = await ctx.newPage();
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/i.test(t)) problems.push('CSP: ' + t);
    else if (m.type() === 'error' && !/status of 4\d\d|status of 5\d\d/.test(t)) problems.push('console: ' + t);
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  const refused = (r) => { if (r.status() >= 400) problems.push(`loading the page: ${r.status()} for ${r.url()}`); };
  page.on('response', refused);
  await page.goto(URL0 + '/', { waitUntil: 'load' });
  await page.waitForSelector('#current-details:not([hidden])');
  await page.waitForLoadState('networkidle', { timeout: IDLE_TIMEOUT }).catch(() => {
    throw new Failure(`the page did not reach network idle within ${IDLE_TIMEOUT / 1000}s`);
  });
  page.off('response', refused);
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true, timeout: STEP_TIMEOUT });
}

async function fillUpload(page, { name = 'sensor-ca', pass, key, crt, chain, crl = false, validation = 'mandatory' }) {
  await page.check('input[name=mode][value=ca-signed]');
  await page.fill('#f-name', name);
  await page.fill('#f-passphrase', pass || '');
  for (const [id, f] of [['#f-key', key], ['#f-crt', crt], ['#f-chain', chain]]) {
    await page.setInputFiles(id, f ? fx(f) : []);
  }
  await page.setChecked('#f-use-crl', crl);
  await page.check(`input[name=validation][value=${validation}]`);
}

async function waitResult(page) {
  await page.waitForSelector('#result:not([hidden]) #result-status', { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('#upload').getAttribute('aria-busy') === 'false');
  return page.locator('#result-status');
}
const text = (page, sel) => page.locator(sel).innerText();
const currentFp = (page) => text(page, '#current-details [data-item=sha-256-fingerprint]');
const announced = (page) => page.waitForFunction(() => document.querySelector('#announce').textContent.length > 0)
  .then(() => text(page, '#announce').catch(() => page.$eval('#announce', (e) => e.textContent)));

// The certificate the browser itself got from nginx (DevTools protocol).
async function servedFp(ctx, page) {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#current-details:not([hidden])');
  const { tableNames } = await cdp.send('Network.getCertificate', { origin: URL0 });
  await cdp.detach();
  check(tableNames && tableNames.length, 'the browser reports no certificate for ' + URL0);
  return fpDer(Buffer.from(tableNames[0], 'base64'));
}

// ------------------------------------------------------------------ tests
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// Every request of the page ends: network idle comes at once (no fetch
// left with its body unread), nothing is refused (no 404 for a favicon).
test('page-load', async (ctx, problems) => {
  await ensureSelfSigned();
  const page = await ctx.newPage();
  const pending = new Map();
  const refused = [];
  const seen = [];
  page.on('request', (r) => { pending.set(r, r.method() + ' ' + r.url()); seen.push(r.url()); });
  page.on('requestfinished', (r) => pending.delete(r));
  page.on('requestfailed', (r) => { pending.delete(r); refused.push(`${r.url()} failed: ${r.failure()?.errorText}`); });
  page.on('response', (r) => { if (r.status() >= 400) refused.push(`${r.status()} for ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  const t0 = Date.now();
  await page.goto(URL0 + '/', { waitUntil: 'load' });
  await page.waitForSelector('#current-details:not([hidden])');
  try {
    await page.waitForLoadState('networkidle', { timeout: IDLE_TIMEOUT });
  } catch (e) {
    throw new Failure(`no network idle within ${IDLE_TIMEOUT / 1000}s; still open: ${[...pending.values()].join(', ')}`);
  }
  const ms = Date.now() - t0;
  eq([...pending.values()].join(', '), '', 'requests left pending at network idle');
  eq(refused.join(', '), '', 'answers >= 400 while the page loads');
  check(ms < IDLE_TIMEOUT, `network idle after ${ms} ms`);
  eq(seen.filter((u) => u.includes('/api/certificate/download')).join(', '), '', 'downloads fetched at load');
  // the icon the page names is there, and it is the SVG
  const icon = await page.$eval('link[rel=icon]', (l) => l.href);
  const r = await apiCtx.fetch(icon, { timeout: STEP_TIMEOUT, failOnStatusCode: false });
  eq(r.status(), 200, 'GET ' + icon);
  has(r.headers()['content-type'], 'image/svg+xml', 'favicon type');
  // each label of the form comes from dialog.js's one table: none is empty
  const empty = await page.$$eval('[data-label]', (l) => l.filter((e) => !e.textContent.trim()).map((e) => e.dataset.label));
  eq(empty.join(','), '', 'form labels left empty');
  for (const id of ['f-name', 'f-passphrase', 'f-key', 'f-crt', 'f-chain', 'f-use-crl', 'f-confirm']) {
    check(await page.$eval('#' + id, (i) => i.labels.length > 0 && i.labels[0].textContent.trim() !== ''),
      `#${id} has no label text`);
  }
  await shot(page, 'page-load');
});

// Cache-Control and X-Content-Type-Options once per answer: nginx adds
// them, certdialog-fcgi must not write them too.
test('api-headers-once', async () => {
  const anon = (await browser.newContext({ ignoreHTTPSErrors: true })).request;
  const cases = [
    [apiCtx, '/api/certificate/download?format=pem&part=leaf', 200],
    [apiCtx, '/api/certificate/download?format=der&part=leaf', 200],
    [apiCtx, '/api/certificate/download?format=pem&part=chain', 200],
    [apiCtx, '/api/certificate/download?format=der&part=chain', 400],
    [apiCtx, '/api/certificate', 200],
    [anon, '/api/certificate/download?format=pem&part=leaf', 401],
  ];
  try {
    for (const [rq, p, want] of cases) {
      const r = await rq.fetch(URL0 + p, { timeout: STEP_TIMEOUT, failOnStatusCode: false, headers: { Connection: 'close' } });
      eq(r.status(), want, 'GET ' + p);
      const hs = r.headersArray();
      for (const [name, value] of [['cache-control', 'no-store'], ['x-content-type-options', 'nosniff']]) {
        const got = hs.filter((h) => h.name.toLowerCase() === name).map((h) => h.value);
        eq(got.join(' | '), value, `${name} of GET ${p} (curl -D- shows each line)`);
      }
    }
  } finally {
    await anon.dispose();
  }
});

test('first-sign-in', async (ctx, problems) => {
  const before = await ensureSelfSigned();
  const page = await openDialog(ctx, problems);
  has(await text(page, '#current-details'), 'Self-signed', 'current certificate type');
  check(await page.isVisible('#selfsigned-note'), 'no note that the current certificate is self-signed');
  eq(await currentFp(page), before.certificate.sha256_fingerprint, 'fingerprint shown');
  for (const item of ['name', 'subject-cn', 'issuer', 'valid-from', 'valid-to', 'days-left', 'key',
    'signature-algorithm', 'sha-256-fingerprint', 'type']) {
    check(await page.isVisible(`#current-details [data-item=${item}]`), `current certificate lacks ${item}`);
  }
  eq(await servedFp(ctx, page), before.certificate.sha256_fingerprint, 'certificate the browser got (before)');
  await shot(page, 'first-sign-in-before');

  await fillUpload(page, { name: 'sensor-2025', key: 'good.key', crt: 'good.pem', chain: 'chain-int-only.pem' });
  await page.click('#save');
  const st = await waitResult(page);
  has(await st.innerText(), 'The certificate "sensor-2025" was installed.', 'result');
  has(await text(page, '#reload-status'), 'The web server reloaded', 'reload status');
  const want = fpOf(fx('good.pem'));
  eq(await text(page, '#result-details [data-item=sha-256-fingerprint]'), want, 'new certificate fingerprint');
  has(await text(page, '#result-details [data-item=subject-cn]'), 'sensor.contoso.com', 'new CN');
  has(await text(page, '#result-details [data-item=issuer]'), 'Contoso Test Intermediate', 'new issuer');
  eq(await page.$eval('#progress', (p) => p.value), 100, 'upload progress reached');
  has(await announced(page), 'installed', 'aria-live announcement');
  await shot(page, 'first-sign-in-success');

  await page.click('#reload-page');
  await page.waitForLoadState('load');
  await page.waitForSelector('#current-details:not([hidden])');
  await page.waitForFunction((fp) => document.querySelector('#current-details [data-item=sha-256-fingerprint]')
    ?.textContent === fp, want);
  has(await text(page, '#current-details [data-item=name]'), 'sensor-2025', 'current name');
  has(await text(page, '#current-details [data-item=type]'), 'CA-signed', 'current type');
  check(await page.isHidden('#selfsigned-note'), 'self-signed note still shown');
  check(await page.isHidden('#name-warning'), 'name warning shown though the SAN has 127.0.0.1');
  eq(await servedFp(ctx, page), want, 'certificate the browser got after the reload');
  await shot(page, 'first-sign-in-after-reload');
});

test('wrong-passphrase', async (ctx, problems) => {
  const page = await openDialog(ctx, problems);
  const fp0 = await currentFp(page);
  await fillUpload(page, { pass: readFx('wrongpass.txt'), key: 'good-pbes2.key', crt: 'good.pem', chain: 'chain-int-only.pem' });
  await page.click('#save');
  await waitResult(page);
  const at = await text(page, '#fb-passphrase');
  has(at, 'Passphrase does not match to the key', 'finding at the passphrase field');
  has(at, 'Validate that you typed the correct passphrase. If the problem continues, try recreating the certificate using the correct passphrase.', 'vendor recommendation');
  eq(await page.getAttribute('#f-passphrase', 'aria-invalid'), 'true', 'passphrase aria-invalid');
  eq(await page.locator('#fb-key .finding, #fb-crt .finding').count(), 0, 'findings at other fields');
  has(await text(page, '#result-status'), 'Nothing was installed', 'result');
  has(await announced(page), 'Passphrase does not match to the key', 'announcement');
  eq(await currentFp(page), fp0, 'current certificate unchanged');
  await shot(page, 'wrong-passphrase');
  // the right one then passes the test
  await page.fill('#f-passphrase', readFx('pass.txt'));
  await page.click('#test');
  const st = await waitResult(page);
  has(await st.innerText(), 'Test passed', 'test with the right passphrase');
  eq(await page.locator('#fb-passphrase .finding').count(), 0, 'old finding cleared');
});

test('expired', async (ctx, problems) => {
  const page = await openDialog(ctx, problems);
  const fp0 = await currentFp(page);
  await fillUpload(page, { key: 'good.key', crt: 'expired.pem', chain: 'chain-int-only.pem' });
  await page.click('#save');
  await waitResult(page);
  const at = await text(page, '#fb-crt');
  has(at, "This SSL certificate has expired and isn't considered valid.", 'finding at the certificate field');
  has(at, 'Create a new certificate with valid dates.', 'vendor recommendation');
  has(at, 'Valid To is', 'detail');
  eq(await currentFp(page), fp0, 'current certificate unchanged');
  await shot(page, 'expired-refused');
});

test('several-findings', async (ctx, problems) => {
  const page = await openDialog(ctx, problems);
  await fillUpload(page, { name: '', key: 'weak1024.key', crt: 'three.pem', chain: 'chain-extra.pem' });
  await page.click('#save');
  await waitResult(page);
  const codes = await page.$$eval('#result-status li.finding', (l) => l.map((e) => e.dataset.code));
  for (const c of ['expired', 'weak_key', 'subject_incomplete', 'missing_field']) {
    check(codes.includes(c), `result lacks ${c} (has ${codes.join(',')})`);
  }
  has(await text(page, '#result-status'), `${codes.length} errors`, 'error count');
  const crt = await page.$$eval('#fb-crt li.finding.error', (l) => l.map((e) => e.dataset.code));
  for (const c of ['expired', 'weak_key', 'subject_incomplete']) check(crt.includes(c), `${c} not at the certificate field`);
  has(await text(page, '#fb-name'), 'Enter a Certificate Name.', 'missing name at its field');
  has(await text(page, '#fb-crt'), 'missing: OU', 'subject detail');
  has(await text(page, '#fb-crt'), 'found RSA 1024 bits', 'key size detail');
  // warnings apart
  eq(await page.$$eval('#result-warnings li.finding', (l) => l.map((e) => e.dataset.code)).then((a) => a.join()), 'chain_extra', 'warnings box');
  eq(await page.locator('#result-status li[data-code=chain_extra]').count(), 0, 'warning among the errors');
  eq(await page.locator('#fb-chain li.finding.warning').count(), 1, 'warning at the chain field');
  await shot(page, 'several-findings');
  // the links of the summary take the focus to the field
  eq(await text(page, '#result-status li[data-code=missing_field] a'), await text(page, 'label[for=f-name]'),
    'summary link names the field as the form does');
  await page.click('#result-status li[data-code=missing_field] a');
  eq(await page.evaluate(() => document.activeElement.id), 'f-name', 'summary link focus');
});

test('validation-none', async (ctx, problems) => {
  await installGood('before-none');
  const page = await openDialog(ctx, problems);
  // Test first: errors become warnings, nothing is installed
  await fillUpload(page, { name: 'lenient', key: 'weak1024.key', crt: 'three.pem', chain: 'chain-int-only.pem', validation: 'none' });
  await page.click('#test');
  await waitResult(page);
  has(await text(page, '#result-status'), 'Test passed', 'three findings pass with None');
  const warns = await page.$$eval('#result-warnings li.finding', (l) => l.map((e) => e.dataset.code));
  for (const c of ['expired', 'weak_key', 'subject_incomplete']) check(warns.includes(c), `warnings lack ${c}`);
  eq(await page.locator('#fb-crt li.finding.error').count(), 0, 'errors at the certificate field');
  check(await page.locator('#fb-crt li.finding.warning').count() >= 3, 'warnings at the certificate field');
  await shot(page, 'validation-none-test');
  // None still refuses a key that does not belong to the certificate
  await page.setInputFiles('#f-key', fx('good.key'));
  await page.click('#test');
  await waitResult(page);
  has(await text(page, '#fb-key'), 'The private key does not belong to the certificate', 'key_mismatch stays an error');
  // Save an expired one with None: installed, the top says it has expired
  await fillUpload(page, { name: 'expired-on-purpose', key: 'good.key', crt: 'expired.pem', chain: 'chain-int-only.pem', validation: 'none' });
  await page.click('#save');
  await waitResult(page);
  has(await text(page, '#result-status'), 'was installed', 'expired installed with None');
  eq(await page.$$eval('#result-warnings li.finding', (l) => l.map((e) => e.dataset.code)).then((a) => a.join()), 'expired', 'the warning');
  await page.waitForSelector('#expiry-warning:not([hidden])');
  has(await text(page, '#expiry-warning'), 'The certificate has expired.', 'expired banner');
  eq(await page.getAttribute('#expiry-warning', 'class'), 'banner err', 'expired banner style');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'validation-none-expired-current');
  await page.click('#expiry-replace');
  eq(await page.evaluate(() => document.activeElement.id), 'f-name', 'Replace now focuses the form');
});

test('expires-soon', async (ctx, problems) => {
  const page = await openDialog(ctx, problems);
  await fillUpload(page, { name: 'soon', key: 'good.key', crt: 'soon.pem', chain: 'chain-int-only.pem' });
  await page.click('#save');
  await waitResult(page);
  has(await text(page, '#result-status'), 'was installed', 'soon.pem installs');
  has(await text(page, '#result-warnings'), 'The certificate expires in fewer than 30 days', 'expires_soon warning');
  await page.waitForSelector('#expiry-warning:not([hidden])');
  has(await text(page, '#expiry-warning'), 'The certificate expires in', 'expiry banner');
  eq(await page.getAttribute('#expiry-warning', 'class'), 'banner warn', 'expiry banner style');
  check(await page.isVisible('#expiry-replace'), 'no way to replace it in the banner');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'expires-soon-current');
});

test('test-installs-nothing', async (ctx, problems) => {
  await ensureSelfSigned();
  const before = await current();
  const page = await openDialog(ctx, problems);
  await fillUpload(page, { name: 'dry-run', key: 'good.key', crt: 'good.pem', chain: 'chain-int-only.pem' });
  await page.click('#test');
  await waitResult(page);
  has(await text(page, '#result-status'), 'Test passed: these files would be accepted.', 'result');
  has(await text(page, '#result-status'), 'Nothing was installed', 'result');
  eq(await text(page, '#result-details [data-item=sha-256-fingerprint]'), fpOf(fx('good.pem')), 'tested certificate shown');
  has(await announced(page), 'Nothing was installed', 'announcement');
  const after = await current();
  eq(after.certificate.sha256_fingerprint, before.certificate.sha256_fingerprint, 'active certificate');
  eq(after.history.length, before.history.length, 'history length');
  eq(await currentFp(page), before.certificate.sha256_fingerprint, 'page still shows the old certificate');
  await shot(page, 'test-installs-nothing');
});

test('self-signed-confirm', async (ctx, problems) => {
  await installGood('before-self-signed');
  const before = await current();
  const page = await openDialog(ctx, problems);
  await page.check('input[name=mode][value=self-signed]');
  check(await page.isHidden('#ca-fields'), 'CA fields still shown');
  check(await page.isHidden('#test'), 'Test shown for self-signed');
  await page.click('#save');
  await waitResult(page);
  has(await text(page, '#fb-confirm'), 'A required field is missing', 'finding at Confirm');
  has(await text(page, '#fb-confirm'), 'Tick Confirm', 'recommendation at Confirm');
  eq((await current()).certificate.sha256_fingerprint, before.certificate.sha256_fingerprint, 'nothing installed without Confirm');
  await shot(page, 'self-signed-needs-confirm');
  await page.check('#f-confirm');
  await page.click('#save');
  await waitResult(page);
  has(await text(page, '#result-status'), 'A new self-signed certificate was installed.', 'result');
  const after = await current();
  check(after.certificate.mode === 'self-signed', 'active certificate is not self-signed');
  check(after.certificate.sha256_fingerprint !== before.certificate.sha256_fingerprint, 'fingerprint unchanged');
  await page.waitForFunction((fp) => document.querySelector('#current-details [data-item=sha-256-fingerprint]')
    ?.textContent === fp, after.certificate.sha256_fingerprint);
  await shot(page, 'self-signed-installed');
});

test('rollback', async (ctx, problems) => {
  await ensureSelfSigned();
  const old = await current();
  await installGood('rollback-me');
  const page = await openDialog(ctx, problems);
  const rb = page.locator('#rollback');
  check(await rb.isEnabled(), 'Roll back disabled');
  has(await rb.innerText(), 'Roll back to "' + old.certificate.name + '"', 'button names the target');
  eq(await page.locator('#history tbody tr').count(), (await current()).history.length, 'history rows');
  await rb.click();
  await waitResult(page);
  has(await text(page, '#result-status'), 'Rolled back', 'result');
  eq((await current()).certificate.sha256_fingerprint, old.certificate.sha256_fingerprint, 'active after roll back');
  await page.waitForFunction((fp) => document.querySelector('#current-details [data-item=sha-256-fingerprint]')
    ?.textContent === fp, old.certificate.sha256_fingerprint);
  has(await text(page, '#history tr.current'), old.certificate.name, 'current row');
  await shot(page, 'rollback');
});

test('keyboard-only-upload', async (ctx, problems) => {
  await ensureSelfSigned();
  const page = await openDialog(ctx, problems);
  const focused = () => page.evaluate(() => document.activeElement && document.activeElement.id);
  async function tabTo(id, max = 80) {
    for (let i = 0; i < max; i++) {
      if (await focused() === id) return;
      await page.keyboard.press('Tab');
    }
    throw new Failure(`Tab never reached #${id}`);
  }
  // no mouse from here on: Tab, Space, Enter and typing only
  await tabTo('f-name');
  await page.keyboard.type('keyboard-only');
  await tabTo('f-key');
  await page.locator(':focus').setInputFiles(fx('good.key'));
  await tabTo('f-crt');
  await page.locator(':focus').setInputFiles(fx('good.pem'));
  await tabTo('f-chain');
  await page.locator(':focus').setInputFiles(fx('chain-int-only.pem'));
  await tabTo('f-use-crl');
  await page.keyboard.press('Space');
  eq(await page.isChecked('#f-use-crl'), false, 'Space clears Use CRL');
  await tabTo('save');
  await page.keyboard.press('Enter');
  await waitResult(page);
  has(await text(page, '#result-status'), 'The certificate "keyboard-only" was installed.', 'result');
  eq(await focused(), 'result-h', 'focus moves to the result');
  has(await announced(page), 'installed', 'announcement');
  await shot(page, 'keyboard-only-upload');
});

test('drag-and-drop', async (ctx, problems) => {
  const page = await openDialog(ctx, problems);
  await fillUpload(page, { name: 'dropped' });
  for (const [sel, f] of [['[data-field=key]', 'good.key'], ['[data-field=crt]', 'good.pem']]) {
    const dt = await page.evaluateHandle(([name, body]) => {
      const d = new DataTransfer();
      d.items.add(new File([body], name, { type: 'application/octet-stream' }));
      return d;
    }, [f, readFx(f)]);
    await page.dispatchEvent(sel, 'dragenter', { dataTransfer: dt });
    await page.dispatchEvent(sel, 'drop', { dataTransfer: dt });
  }
  eq(await page.$eval('#f-crt', (i) => i.files[0] && i.files[0].name), 'good.pem', 'dropped certificate');
  await page.setInputFiles('#f-chain', fx('chain-int-only.pem'));
  await page.click('#test');
  await waitResult(page);
  has(await text(page, '#result-status'), 'Test passed', 'dropped files pass the test');
});

test('name-mismatch-hosts-line', async (ctx, problems) => {
  await ensureSelfSigned();
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: URL0 });
  const page = await openDialog(ctx, problems);
  await page.waitForSelector('#name-warning:not([hidden])');
  const w = await text(page, '#name-warning');
  has(w, 'NET::ERR_CERT_COMMON_NAME_INVALID', 'warning names the browser error');
  eq(await text(page, '#name-address'), '127.0.0.1', 'address shown');
  has(await text(page, '#name-cert'), 'sensor.contoso.com', 'certificate name shown');
  eq(await page.inputValue('#hosts-line'), '127.0.0.1 sensor.contoso.com', 'hosts line');
  // where the line goes on each system: the service's word, not the page's
  const files = (await current()).access.hosts_files;
  for (const os of ['windows', 'linux', 'macos']) {
    eq(await text(page, '#hosts-' + os), files[os], `hosts file for ${os}`);
  }
  await page.click('#copy-hosts');
  await page.waitForFunction(() => document.querySelector('#copy-status').textContent !== '');
  const clip = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
  has(await text(page, '#copy-status'), 'Copied', 'copy status');
  eq(clip, '127.0.0.1 sensor.contoso.com', 'clipboard');
  await shot(page, 'name-mismatch');
});

test('narrow-window', async (ctx, problems) => {
  await ensureSelfSigned();
  const page = await openDialog(ctx, problems);
  await page.setViewportSize({ width: 360, height: 780 });
  await fillUpload(page, { pass: readFx('wrongpass.txt'), key: 'good-pbes2.key', crt: 'three.pem', chain: 'chain-extra.pem' });
  await page.click('#test');
  await waitResult(page);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(over <= 1, `the page is ${over}px wider than a 360px window`);
  await page.locator('#result').screenshot({ path: path.join(SHOTS, 'narrow-window-result.png') });
  await page.locator('div.field[data-field=passphrase]').screenshot({ path: path.join(SHOTS, 'narrow-window-passphrase.png') });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, 'narrow-window-top.png') });
});

test('download-der', async (ctx, problems) => {
  const page = await openDialog(ctx, problems);
  await page.click('#trust > summary');
  await shot(page, 'download-trust');
  check(await page.isVisible('#dl-der'), 'no download buttons');
  const shown = await text(page, '#trust-fp');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-der')]);
  const saved = path.join(scratch, 'downloaded.cer');
  await dl.saveAs(saved);
  let got;
  try {
    got = fpOf(saved, 'DER');
  } catch (e) {
    throw new Failure('the downloaded .cer does not parse as DER: ' + String(e.stderr || e.message).trim());
  }
  eq(got, shown, 'fingerprint of the downloaded .cer vs the page');
  eq(got, await currentFp(page), 'fingerprint of the downloaded .cer vs current');
});

// ------------------------------------------------------------------- main
const only = (env.CD_BROWSER_ONLY || '').split(',').filter(Boolean);
const watchdog = setTimeout(() => { console.log('FAIL runner: overall time limit (15 min)'); process.exit(1); }, 15 * 60_000);
let passed = 0;
let failed = 0;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: 30_000 });
} catch (e) {
  setupFail('chromium does not start: ' + e.message.split('\n')[0]);
}
apiCtx = (await browser.newContext({ httpCredentials: { username: USER, password: PASS }, ignoreHTTPSErrors: true })).request;
for (const t of tests) {
  if (only.length && !only.includes(t.name)) continue;
  const ctx = await newContext();
  const problems = [];
  let timer;
  try {
    await Promise.race([
      t.fn(ctx, problems),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Failure(`timed out after ${TEST_TIMEOUT / 1000}s`)), TEST_TIMEOUT); }),
    ]);
    if (problems.length) throw new Failure(problems.join(' | '));
    console.log(`ok ${t.name}`);
    passed++;
  } catch (e) {
    const why = e instanceof Failure ? e.message : (e.stack || String(e)).split('\n').slice(0, 3).join(' / ');
    console.log(`FAIL ${t.name}: ${why}`);
    failed++;
    for (const p of ctx.pages()) await shot(p, t.name + '-FAILED').catch(() => {});
  } finally {
    clearTimeout(timer);
    await ctx.close().catch(() => {});
  }
}
await browser.close().catch(() => {});
clearTimeout(watchdog);
console.log(`# screenshots in ${SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
