// Browser test of the status page: first-start set-up, login, a domain and a
// user, the dedup policy changed from the page and checked over SMTP, and a
// screenshot. Usage: node setup_flow.mjs POSTERN_BINARY [SCREENSHOT.png]
// Uses Debian's chromium through playwright-core; never downloads a browser.
// Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.POSTERN_CHROMIUM || '/usr/bin/chromium';
const MULTIPLIER = Number(process.env.POSTERN_TEST_TIMEOUT_MULTIPLIER || '1') || 1;
const scaled = (ms) => ms * MULTIPLIER;
const binary = process.argv[2];
const screenshot = process.argv[3] || process.env.POSTERN_SCREENSHOT ||
  path.resolve('status-page.png');

if (!binary) {
  console.error('usage: node setup_flow.mjs POSTERN_BINARY [SCREENSHOT.png]');
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
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-browser-'));
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

// --- a tiny SMTP client (RFC 5321), enough to send one message ---
function smtpSend(port, from, to, message) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('SMTP timed out')); }, scaled(20000));
    let buffer = '';
    const steps = [
      [null, 220], ['EHLO browser.test', 250], [`MAIL FROM:<${from}>`, 250], [`RCPT TO:<${to}>`, 250],
      ['DATA', 354], [message.replace(/\r?\n/g, '\r\n') + '\r\n.', 250], ['QUIT', 221],
    ];
    let step = 0;
    const send = () => { if (steps[step][0] !== null) socket.write(steps[step][0] + '\r\n'); };
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line[3] === '-') continue;  // a multi-line reply goes on
        const code = Number(line.slice(0, 3));
        if (code !== steps[step][1]) {
          clearTimeout(timer);
          socket.destroy();
          return reject(new Error(`SMTP step ${step}: expected ${steps[step][1]}, got "${line}"`));
        }
        step += 1;
        if (step === steps.length) {
          clearTimeout(timer);
          socket.end();
          return resolve();
        }
        send();
      }
    });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

function messageCount(address) {
  const line = cli('user', 'list').split('\n').find((l) => l.startsWith(address + ' '));
  return line ? Number(line.trim().split(/\s+/)[1]) : -1;
}

let server, context;
let stderrText = '';
try {
  for (const key of ['smtp_port', 'pop3_port', 'pop3s_port', 'http_port', 'https_port']) cli('set', key, '0');
  cli('set', 'pbkdf2_iterations', '10000');  // fast hashing; PBKDF2 itself is unit-tested

  server = spawn(binary, ['serve', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.setEncoding('utf8');
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (c) => { stderrText += c; });
  const [setupUrlMatch, readyMatch] = await Promise.all([
    waitFor(server.stderr, /setup: open (http:\/\/\S+)/, 'the setup link', 30000),
    waitFor(server.stdout, /postern ready .*\n/, 'the ready line', 30000),
  ]);
  const ports = Object.fromEntries([...readyMatch[0].matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  const setupUrl = setupUrlMatch[1];
  check('the setup link is printed with the bound HTTP port', setupUrl.includes(`:${ports.http}/setup#`), setupUrl);

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
  // Refused requests (401, 409, 422) are part of the flow; a 404 or a script error is not.
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error' && !/status of (401|409|422|429)/.test(text)) pageErrors.push(text);
  });

  // First start: set the admin password with the one-time link.
  await page.goto(setupUrl);
  await page.locator('#setup-view').waitFor({ state: 'visible' });
  await page.fill('#setup-password', PASSWORD);
  await page.fill('#setup-repeat', PASSWORD);
  await page.click('#setup-submit');
  await page.locator('#main-view').waitFor({ state: 'visible' });
  check('first-start set-up logs the owner in', true);
  check('the spent token leaves the address bar', !page.url().includes('#'), page.url());

  // The link dies with its first use.
  const reuse = await page.evaluate(async (token) => (await fetch('/api/setup', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, password: 'another password' }) })).status, setupUrl.split('#')[1]);
  check('the setup link cannot be used twice', reuse === 409, `HTTP ${reuse}`);

  // Log out, then in again.
  await page.click('#logout');
  await page.locator('#login-view').waitFor({ state: 'visible' });
  await page.fill('#login-password', 'wrong password');
  await page.click('#login-submit');
  await page.locator('#login-form .msg.error').waitFor();
  check('a wrong password is refused', (await page.textContent('#login-form .msg')) === 'Wrong password.');
  // The throttle holds this address for a second after a second failure; one
  // failure is free, so the right password goes through at once.
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#main-view').waitFor({ state: 'visible' });
  check('login with the admin password', true);

  // A domain and a user.
  await page.fill('#domain-name', 'example.org');
  await page.click('#domain-add');
  await page.locator('#domains td', { hasText: 'example.org' }).waitFor();
  check('a domain is added from the page', true);
  await page.fill('#user-address', 'bob@example.org');
  await page.fill('#user-password', 'bobs password');
  await page.click('#user-add');
  await page.locator('#users td', { hasText: 'bob@example.org' }).waitFor();
  check('a user is added from the page', messageCount('bob@example.org') === 0);

  // Bad input gets a clear message.
  await page.fill('#domain-name', 'not a domain!');
  await page.click('#domain-add');
  await page.locator('#domain-form .msg.error').waitFor();
  check('invalid input is explained', (await page.textContent('#domain-form .msg')).length > 10,
    await page.textContent('#domain-form .msg'));

  // Before the change: the default policy suppresses a retried message.
  const message = 'From: alice@example.net\nTo: bob@example.org\nSubject: twice\n' +
    'Message-ID: <same-message@example.net>\n\nThe same body both times.';
  await smtpSend(ports.smtp, 'alice@example.net', 'bob@example.org', message);
  await smtpSend(ports.smtp, 'alice@example.net', 'bob@example.org', message);
  check('by default the second copy is suppressed', messageCount('bob@example.org') === 1,
    `${messageCount('bob@example.org')} stored`);

  // Dedup policy: allow duplicates, saved and applied without a restart.
  const reloaded = waitFor(server.stderr, /event=reloaded/, 'the settings reload', 15000);
  await page.selectOption('#set-allow_duplicates', 'yes');
  await page.click('#save-dedup');
  await page.locator('#settings-dedup .msg.ok, #settings-dedup .msg.error').waitFor();
  const saved = await page.textContent('#settings-dedup .msg');
  if (!check('the page confirms the saved policy', saved === 'Saved and applied.', saved)) throw new Error(saved);
  await reloaded;
  check('the dedup policy is saved in the store', /allow_duplicates\s+yes/.test(cli('set')));

  // Over SMTP: the same message twice; with duplicates allowed both are stored.
  await smtpSend(ports.smtp, 'alice@example.net', 'bob@example.org', message);
  await smtpSend(ports.smtp, 'alice@example.net', 'bob@example.org', message);
  await until(() => messageCount('bob@example.org') === 3, 'three stored copies', 10000);
  check('with allow_duplicates on, both copies are stored', messageCount('bob@example.org') === 3);

  // The page shows it, on a desktop and on a phone.
  await page.reload();
  await page.locator('#main-view').waitFor({ state: 'visible' });
  await page.locator('#users td.num', { hasText: '3' }).first().waitFor();
  check('the page shows the stored messages', true);
  const suppressed = await page.textContent('#health-tiles .tile:first-child .value');
  check('the page counts the suppressed duplicate', suppressed === '1', suppressed);
  await page.locator('#tiles .tile').first().waitFor();
  await page.screenshot({ path: screenshot, fullPage: true });
  check('screenshot saved', fs.statSync(screenshot).size > 10000, screenshot);
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('no sideways scrolling on a phone-sized screen', overflow <= 0, `${overflow}px`);
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-phone.png'), fullPage: true });
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
