// Shared harness of the browser tests: the command line, a real `postern serve` with a
// temporary data dir, Debian's chromium through playwright-core (never a downloaded browser),
// bounded waits, the checks, and the clean-up that checks postern stops cleanly on SIGTERM
// with no sanitizer report. Every wait is scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
//
// Typical use:
//   const flow = await openFlow({ script: 'x_flow.mjs', screenshot: 'x.png', tmpPrefix: 'postern-x-' });
//   await flow.run(async () => {
//     flow.configure();                      // then any `flow.cli('set', ...)` of the test
//     const { setupUrl, ports } = await flow.serve();
//     const { page, pageErrors } = await flow.browser(/status of (401)/);
//     await flow.firstStart(page, setupUrl);
//     ...flow.check(name, ok, detail)...
//   });                                      // prints the tally and exits 0 or 1
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.POSTERN_CHROMIUM || '/usr/bin/chromium';
const MULTIPLIER = Number(process.env.POSTERN_TEST_TIMEOUT_MULTIPLIER || '1') || 1;
export const scaled = (ms) => ms * MULTIPLIER;
export const PASSWORD = 'correct horse battery';

// Resolves with the first match of `pattern` in the growing text of `stream`.
export function waitFor(stream, pattern, what, ms) {
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
export async function until(predicate, what, ms) {
  const deadline = Date.now() + scaled(ms);
  for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 200)) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, delay));  // poll interval of a bounded wait
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Reads the command line (POSTERN_BINARY [SCREENSHOT.png]) and loads playwright-core. Exits 2
// on bad usage, and 0 with a SKIP line without chromium or playwright-core. `screenshot` is the
// default file name (POSTERN_SCREENSHOT overrides it), `tmpPrefix` names the temporary dir.
export async function openFlow({ script, screenshot, tmpPrefix }) {
  const binary = process.argv[2];
  const shot = process.argv[3] || process.env.POSTERN_SCREENSHOT || path.resolve(screenshot);
  if (!binary) {
    console.error(`usage: node ${script} POSTERN_BINARY [SCREENSHOT.png]`);
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
  return new Flow(binary, shot, chromium, tmpPrefix);
}

// One test run: its data dir, the server, the browser context and the tally of checks.
class Flow {
  constructor(binary, screenshot, chromium, tmpPrefix) {
    this.binary = binary;
    this.screenshot = screenshot;
    this.chromium = chromium;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    this.data = path.join(this.dir, 'data');
    this.results = [];
    this.server = null;  // the `postern serve` child once serve() has started it
    this.context = null;
    this.stderrText = '';  // all of the server's stderr, for the failure tail and sanitizer check
  }

  // Records and prints one check; returns `ok`. An arrow field, so `const { check } = flow` works.
  check = (name, ok, detail = '') => {
    this.results.push(ok);
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
    return ok;
  };

  // One CLI command on the test's data dir; throws on a non-zero exit. An arrow field too.
  cli = (...args) => {
    const r = spawnSync(this.binary, [...args, '--data', this.data], { encoding: 'utf8', timeout: scaled(60000) });
    if (r.status !== 0) throw new Error(`postern ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  // Every port 0 (the kernel picks) and fast hashing (PBKDF2 itself is unit-tested).
  configure() {
    for (const key of ['smtp_port', 'pop3_port', 'pop3s_port', 'http_port', 'https_port']) this.cli('set', key, '0');
    this.cli('set', 'pbkdf2_iterations', '10000');
  }

  // Starts `postern serve` and waits for the setup link (stderr) and the ready line (stdout).
  // Returns the link and the bound ports named in the ready line ({ smtp, http, ... }).
  async serve() {
    const server = spawn(this.binary, ['serve', '--data', this.data], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.server = server;
    server.stdout.setEncoding('utf8');
    server.stderr.setEncoding('utf8');
    server.stderr.on('data', (c) => { this.stderrText += c; });
    const [setupUrlMatch, readyMatch] = await Promise.all([
      waitFor(server.stderr, /setup: open (http:\/\/\S+)/, 'the setup link', 30000),
      waitFor(server.stdout, /postern ready .*\n/, 'the ready line', 30000),
    ]);
    const ports = Object.fromEntries([...readyMatch[0].matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    return { setupUrl: setupUrlMatch[1], ports };
  }

  // Headless chromium with a fresh profile below the temporary dir. Page errors and console
  // errors are collected in `pageErrors`, except the console's "status of N" lines matching
  // `expectedStatus`: the refused requests the flow itself provokes.
  async browser(expectedStatus) {
    const userData = fs.mkdtempSync(path.join(this.dir, 'chromium-'));
    this.context = await this.chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      timeout: scaled(60000),
    });
    this.context.setDefaultTimeout(scaled(15000));
    const page = this.context.pages()[0] || await this.context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() === 'error' && !expectedStatus.test(text)) pageErrors.push(text);
    });
    return { page, pageErrors };
  }

  // First start: sets the admin password (PASSWORD) with the one-time link, which logs the
  // owner in; resolves once the main view shows.
  async firstStart(page, setupUrl) {
    await page.goto(setupUrl);
    await page.locator('#setup-view').waitFor({ state: 'visible' });
    await page.fill('#setup-password', PASSWORD);
    await page.fill('#setup-repeat', PASSWORD);
    await page.click('#setup-submit');
    await page.locator('#main-view').waitFor({ state: 'visible' });
  }

  // Runs the flow, then cleans up whatever happened; exits 0 when every check passed, else 1.
  async run(body) {
    try {
      await body();
    } catch (e) {
      this.check('the flow ran to the end', false, e.stack || String(e));
      console.log('--- postern stderr (tail) ---\n' + this.stderrText.slice(-3000));
    } finally {
      if (this.context) await this.context.close().catch(() => {});
      const server = this.server;
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', (code) => r(code)));
        server.kill('SIGTERM');
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), scaled(30000)))]);
        if (code === 'timeout') server.kill('SIGKILL');
        this.check('postern stops cleanly on SIGTERM', code === 0, `exit ${code}`);
      }
      const sanitizer = /AddressSanitizer|runtime error:|LeakSanitizer/.test(this.stderrText);
      this.check('no sanitizer report in the server log', !sanitizer, sanitizer ? this.stderrText.slice(-3000) : '');
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    const failed = this.results.filter((ok) => !ok).length;
    console.log(`${this.results.length - failed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  }
}
