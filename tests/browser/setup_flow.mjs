// Browser test of the status page: first-start set-up, login, a domain and a
// user, the dedup policy changed from the page and checked over SMTP, and a
// screenshot. Usage: node setup_flow.mjs POSTERN_BINARY [SCREENSHOT.png]
// Uses Debian's chromium through playwright-core (harness.mjs); never downloads a browser.
// Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
import fs from 'node:fs';
import net from 'node:net';
import { PASSWORD, openFlow, scaled, until, waitFor } from './harness.mjs';

const flow = await openFlow({ script: 'setup_flow.mjs', screenshot: 'status-page.png', tmpPrefix: 'postern-browser-' });
const { check, cli, screenshot } = flow;

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

await flow.run(async () => {
  flow.configure();
  const { setupUrl, ports } = await flow.serve();
  check('the setup link is printed with the bound HTTP port', setupUrl.includes(`:${ports.http}/setup#`), setupUrl);

  // Refused requests (401, 409, 422, 429) are part of the flow; a 404 or a script error is not.
  const { page, pageErrors } = await flow.browser(/status of (401|409|422|429)/);

  // First start: set the admin password with the one-time link.
  await flow.firstStart(page, setupUrl);
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
  const reloaded = waitFor(flow.server.stderr, /event=reloaded/, 'the settings reload', 15000);
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
});
