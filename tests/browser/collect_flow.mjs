// Browser test of the "Collected mailboxes" section: the owner adds an external POP3
// account on the page (a fake POP3 server on loopback, plain text explicitly allowed), sees
// a wrong password reported in words, replaces the account, sees the mails collected and the
// status in words, presses "Collect now" for mail that arrived since, and aims the link
// diagnostics at the account's server. The password is never sent back by the API.
// Usage: node collect_flow.mjs POSTERN_BINARY [SCREENSHOT.png]
// Uses Debian's chromium through playwright-core (harness.mjs); never downloads a browser.
// Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { openFlow, scaled, until } from './harness.mjs';

const REMOTE_USER = 'alice.remote';
const REMOTE_PASSWORD = 'remote-Secret-42';
const LOCAL = 'bob@example.org';

// A small RFC 1939 server: USER/PASS, STAT, LIST, UIDL, RETR, DELE, QUIT; no STLS, no SASL.
class FakePop3 {
  constructor() {
    this.mails = [];
    this.logins = 0;
    this.retrieved = 0;
    this.server = net.createServer((socket) => this.session(socket));
  }
  add(n) {
    const i = this.mails.length + 1;
    this.mails.push({ uid: `fake-${i}-${n}`, body: `From: shop@example.net\r\nTo: ${REMOTE_USER}@example.net\r\nSubject: collected ${i}\r\nMessage-ID: <collected.${i}@example.net>\r\n\r\nmail number ${i}\r\n.a dot-stuffed line\r\n` });
  }
  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port)));
  }
  session(socket) {
    let buffer = '', user = '', authed = false;
    const reply = (text) => socket.write(text + '\r\n');
    const size = (m) => Buffer.byteLength(m.body);
    reply('+OK fake POP3 ready');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let nl;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const [verb, arg] = [line.split(' ')[0].toUpperCase(), line.slice(line.indexOf(' ') + 1)];
        if (verb === 'CAPA') reply('+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.');
        else if (verb === 'USER') { user = arg; reply('+OK'); }
        else if (verb === 'PASS') {
          this.logins++;
          if (user === REMOTE_USER && arg === REMOTE_PASSWORD) { authed = true; reply('+OK logged in'); }
          else reply('-ERR [AUTH] invalid user name or password');
        } else if (verb === 'QUIT') { reply('+OK bye'); socket.end(); }
        else if (!authed) reply('-ERR log in first');
        else if (verb === 'STAT') reply(`+OK ${this.mails.length} ${this.mails.reduce((s, m) => s + size(m), 0)}`);
        else if (verb === 'LIST') reply('+OK\r\n' + this.mails.map((m, i) => `${i + 1} ${size(m)}\r\n`).join('') + '.');
        else if (verb === 'UIDL') reply('+OK\r\n' + this.mails.map((m, i) => `${i + 1} ${m.uid}\r\n`).join('') + '.');
        else if (verb === 'RETR') {
          const m = this.mails[Number(arg) - 1];
          if (!m) { reply('-ERR no such message'); continue; }
          this.retrieved++;
          const stuffed = m.body.split('\r\n').map((l) => (l.startsWith('.') ? '.' + l : l)).join('\r\n');
          reply(`+OK ${size(m)} octets\r\n${stuffed}.`);
        } else reply('-ERR unknown command');
      }
    });
  }
}

const flow = await openFlow({ script: 'collect_flow.mjs', screenshot: 'collect.png', tmpPrefix: 'postern-collect-page-' });
const { check, cli, screenshot } = flow;

await flow.run(async () => {
  const pop3 = new FakePop3();
  for (let i = 0; i < 3; i++) pop3.add(i);
  const port = await pop3.listen();
  flow.configure();
  cli('domain', 'add', 'example.org');
  const added = spawnSync(flow.binary, ['user', 'add', LOCAL, '--data', flow.data], { input: 'local-password-1\n', encoding: 'utf8' });
  if (added.status !== 0) throw new Error('user add: ' + added.stderr);

  const { setupUrl } = await flow.serve();
  // The add with a bad port (422) is part of the flow; a 404, 500 or a script error is not.
  const { page, pageErrors } = await flow.browser(/status of (401|422)/);
  await flow.firstStart(page, setupUrl);
  await page.locator('#collect-form').waitFor({ state: 'visible' });
  await page.locator(`#collect-mailbox option[value="${LOCAL}"]`).waitFor({ state: 'attached' });
  check('the Collected mailboxes section offers the add form with the local mailboxes', true);

  const fill = async (password) => {
    await page.selectOption('#collect-mailbox', LOCAL);
    await page.fill('#collect-host', '127.0.0.1');
    await page.selectOption('#collect-tls', 'plain');
    await page.fill('#collect-port', String(port));
    await page.fill('#collect-user', REMOTE_USER);
    await page.fill('#collect-password', password);
    await page.fill('#collect-interval', '1');
  };

  // Plain text must be allowed explicitly: without the box ticked, nothing is added.
  await fill(REMOTE_PASSWORD);
  await page.click('#collect-add');
  await page.locator('#collect-form .msg.error').waitFor();
  const refusal = await page.textContent('#collect-form .msg');
  check('plain POP3 without the explicit consent is refused in words', /clear text/.test(refusal), refusal);

  // A wrong password: the account is added, and its run reports the failure in words.
  await fill('wrong-password');
  await page.check('#collect-plain');
  await page.click('#collect-add');
  await page.locator('#collect-form .msg.ok').waitFor();
  check('the account is added', /added collect account/.test(await page.textContent('#collect-form .msg')));
  check('the password field is emptied after sending', (await page.inputValue('#collect-password')) === '');
  const status = page.locator('.collect-account .collect-status').first();
  await status.filter({ hasText: 'Authentication failed' }).waitFor({ timeout: scaled(30000) });
  check('a wrong password is reported in plain language', true, await status.textContent());

  // The API never sends the password (nor its sealed form) back.
  const listing = await page.evaluate(async () => (await fetch('/api/collect')).text());
  check('GET /api/collect holds no password', !listing.includes('wrong-password') && !/"[a-z_]*password[a-z_]*"\s*:/i.test(listing), listing.slice(0, 300));

  // Replace it with the right password.
  page.once('dialog', (d) => d.accept());
  await page.locator('.collect-account button', { hasText: 'Remove' }).first().click();
  await page.locator('.collect-account').waitFor({ state: 'detached' });
  await fill(REMOTE_PASSWORD);
  await page.check('#collect-plain');
  await page.click('#collect-add');
  await page.locator('#collect-form .msg.ok').waitFor();
  const account = page.locator('.collect-account').first();
  await account.locator('.collect-status', { hasText: 'fine' }).waitFor({ timeout: scaled(30000) });
  await account.locator('.hint', { hasText: '3 mails' }).waitFor();
  check('the status says the run was fine and 3 mails were collected', true,
    (await account.locator('.collect-status').textContent()) + ' / ' + (await account.locator('.hint').first().textContent()));
  const users = await page.evaluate(async () => (await (await fetch('/api/mailboxes')).json()).users);
  const bob = users.find((u) => u.address === LOCAL);
  check('the 3 mails are in the local mailbox', bob && bob.messages === 3, JSON.stringify(bob));

  // Two more mails on the server; "Collect now" fetches them before the next interval.
  pop3.add(3);
  pop3.add(4);
  const before = pop3.retrieved;
  await account.locator('button', { hasText: 'Collect now' }).click();
  await account.locator('.hint', { hasText: '5 mails' }).waitFor({ timeout: scaled(30000) });
  check('"Collect now" collects the new mails at once, each once', pop3.retrieved - before === 2,
    `${pop3.retrieved - before} retrieved`);

  // The link diagnostics, aimed at the account's server.
  await account.locator('button', { hasText: 'Trace the link' }).click();
  await until(async () => (await page.inputValue('#trace-host')) === '127.0.0.1', 'the trace host filled in', 5000);
  await page.locator('#trace-form .msg', { hasText: /Tracing|Reached/ }).waitFor({ timeout: scaled(20000) });
  check('"Trace the link" starts the tracer on the account\'s server', true, await page.textContent('#trace-form .msg'));

  await page.locator('#collect').screenshot({ path: screenshot });
  check('screenshot saved', fs.statSync(screenshot).size > 5000, screenshot);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#collect').scrollIntoViewIfNeeded();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('no sideways scrolling on a phone-sized screen', overflow <= 0, `${overflow}px`);
  check('no script errors on the page', pageErrors.length === 0, pageErrors.join('; '));
  pop3.server.close();
});
