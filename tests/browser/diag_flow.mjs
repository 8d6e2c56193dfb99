// Browser test of the Diagnostics section: a trace to 127.0.0.1 streams hop 1 into the
// table, an injection string gets the validator's message, and the link chart (inline SVG)
// draws the monitor's samples of 127.0.0.1 (link_monitor_targets, 1 s interval).
// Usage: node diag_flow.mjs POSTERN_BINARY [SCREENSHOT.png]
// Uses Debian's chromium through playwright-core; never downloads a browser.
// Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.POSTERN_CHROMIUM || '/usr/bin/chromium';
const MULTIPLIER = Number(process.env.POSTERN_TEST_TIMEOUT_MULTIPLIER || '1') || 1;
const scaled = (ms) => ms * MULTIPLIER;
const binary = process.argv[2];
const screenshot = process.argv[3] || process.env.POSTERN_SCREENSHOT ||
  path.resolve('diagnostics.png');

if (!binary) {
  console.error('usage: node diag_flow.mjs POSTERN_BINARY [SCREENSHOT.png]');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} not found (install Debian's chromium package)`);
  process.exit(0);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log('SKIP: playwright-core is not installed (run `npm ci` in tests/browser)');
  process.exit(0);
}

const results = [];
function check(name, ok, detail = '') {
  results.push(ok);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
  return ok;
}

// --- the server ---
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-diag-'));
const data = path.join(dir, 'data');
const PASSWORD = 'correct horse battery';

function cli(...args) {
  const r = spawnSync(binary, [...args, '--data', data], { encoding: 'utf8', timeout: scaled(60000) });
  if (r.status !== 0) throw new Error(`postern ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// Resolves with the first match of `pattern` in the growing text of `stream`.
function waitFor(stream, pattern, what, ms) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${text.slice(-2000)}`)), scaled(ms));
    const onData = (chunk) => {
      text += chunk;
      const m = text.match(pattern);
      if (m) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(m);
      }
    };
    stream.on('data', onData);
  });
}

// Polls `predicate` until it is true or the bound passes.
async function until(predicate, what, ms) {
  const deadline = Date.now() + scaled(ms);
  for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 200)) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, delay));  // poll interval of a bounded wait
  }
  throw new Error(`timed out waiting for ${what}`);
}

let server, context;
let stderrText = '';
try {
  for (const key of ['smtp_port', 'pop3_port', 'pop3s_port', 'http_port', 'https_port']) cli('set', key, '0');
  cli('set', 'pbkdf2_iterations', '10000');
  // The test hook: probe loopback every second instead of the gateway every minute.
  cli('set', 'link_monitor_targets', '127.0.0.1');
  cli('set', 'link_monitor_interval_s', '1');
  const refused = spawnSync(binary, ['set', 'link_monitor_targets', '127.0.0.1;reboot', '--data', data], { encoding: 'utf8' });
  check('a bad monitor target is refused by the settings', refused.status !== 0 && /link_monitor_targets/.test(refused.stderr + refused.stdout),
    (refused.stderr + refused.stdout).trim());

  server = spawn(binary, ['serve', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.setEncoding('utf8');
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (c) => { stderrText += c; });
  const [setupUrlMatch] = await Promise.all([
    waitFor(server.stderr, /setup: open (http:\/\/\S+)/, 'the setup link', 30000),
    waitFor(server.stdout, /postern ready .*\n/, 'the ready line', 30000),
  ]);

  const userData = fs.mkdtempSync(path.join(dir, 'chromium-'));
  context = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timeout: scaled(60000),
  });
  context.setDefaultTimeout(scaled(15000));
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The refused trace (400) is part of the flow; a 404, 500 or a script error is not.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (400|401)/.test(m.text())) pageErrors.push(m.text());
  });

  await page.goto(setupUrlMatch[1]);
  await page.locator('#setup-view').waitFor({ state: 'visible' });
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-repeat', PASSWORD);
  await page.click('#setup-submit');
  await page.locator('#main-view').waitFor({ state: 'visible' });
  await page.locator('#trace-form').waitFor({ state: 'visible' });
  check('the Diagnostics section offers the trace form', true);

  // A trace to loopback: hop 1 is 127.0.0.1 itself, and the trace reaches it.
  await page.fill('#trace-host', '127.0.0.1');
  await page.click('#trace-submit');
  const firstHop = page.locator('#trace-hops tbody tr').first();
  await firstHop.locator('td', { hasText: '127.0.0.1' }).waitFor();
  const cells = await firstHop.locator('td').allTextContents();
  check('hop 1 of the trace is 127.0.0.1', cells[0] === '1' && cells[1].startsWith('127.0.0.1'), cells.join(' | '));
  await page.locator('#trace-form .msg.ok', { hasText: 'Reached' }).waitFor({ timeout: scaled(30000) });
  check('the trace reports that it reached the target', true, await page.textContent('#trace-form .msg'));

  // An injection string is refused with the validator's sentence; nothing starts.
  await page.fill('#trace-host', '127.0.0.1; reboot');
  await page.click('#trace-submit');
  await page.locator('#trace-form .msg.error').waitFor();
  const refusal = await page.textContent('#trace-form .msg');
  check('"127.0.0.1; reboot" is refused with a clear message',
    /only a host name or an IP address/.test(refusal) && !refusal.includes('reboot'), refusal);
  const direct = await page.evaluate(async (csrf) => {
    const r = await fetch('/api/trace', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ host: '$(reboot)' }) });
    return r.status;
  }, await page.evaluate(async () => (await (await fetch('/api/session')).json()).csrf));
  check('"$(reboot)" is answered 400 by the API', direct === 400, `HTTP ${direct}`);

  // The chart: axes at once; the monitor's loopback samples drawn once there are some.
  await page.locator('#link-charts svg.chart').first().waitFor();
  const axes = await page.locator('#link-charts svg.chart .x-axis, #link-charts svg.chart .y-axis').count();
  check('the link chart is an inline SVG with both axes', axes >= 2, `${axes} axes`);
  await until(async () => {
    const links = await page.evaluate(async () => (await fetch('/api/links')).json());
    const lo = (links.targets || []).find((t) => t.target === '127.0.0.1');
    return lo && lo.samples.length >= 2;
  }, 'two monitor samples of 127.0.0.1', 20000);
  await page.reload();
  await page.locator('#main-view').waitFor({ state: 'visible' });
  await page.locator('#link-charts svg.chart .rtt-line').first().waitFor();
  const caption = await page.textContent('#link-charts figcaption');
  check('the chart draws the RTT line for 127.0.0.1', caption.includes('127.0.0.1'), caption);
  await page.locator('#diagnostics').screenshot({ path: screenshot });
  check('screenshot saved', fs.statSync(screenshot).size > 5000, screenshot);
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('no sideways scrolling on a phone-sized screen', overflow <= 0, `${overflow}px`);
  check('no script errors on the page', pageErrors.length === 0, pageErrors.join('; '));
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
  console.log('--- postern stderr (tail) ---\n' + stderrText.slice(-3000));
} finally {
  if (context) await context.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), scaled(30000)))]);
    if (code === 'timeout') server.kill('SIGKILL');
    check('postern stops cleanly on SIGTERM', code === 0, `exit ${code}`);
  }
  const sanitizer = /AddressSanitizer|runtime error:|LeakSanitizer/.test(stderrText);
  check('no sanitizer report in the server log', !sanitizer, sanitizer ? stderrText.slice(-3000) : '');
  fs.rmSync(dir, { recursive: true, force: true });
}

const failed = results.filter((ok) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
