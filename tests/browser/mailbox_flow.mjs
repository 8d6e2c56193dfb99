// Browser test of the mailbox view (issue 17 §1, §3): a mailbox owner logs in with the
// mailbox's own address and password, sees a kept partial (a DATA cut off mid-body), a
// message whose retry was suppressed and which a POP3 client already downloaded, and an
// XSS probe shown as text; deletes the partial; POP3 then shows it gone and every other UIDL
// unchanged. The admin opens the same mailbox, the users table fits a 390 px phone, and the
// restart banner's button restarts postern (this script plays the supervisor).
// Usage: node mailbox_flow.mjs POSTERN_BINARY [SCREENSHOT.png]
// Uses Debian's chromium through playwright-core (harness.mjs); never downloads a browser.
// Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { PASSWORD, openFlow, scaled, until, waitFor } from './harness.mjs';

const flow = await openFlow({ script: 'mailbox_flow.mjs', screenshot: 'mailbox.png', tmpPrefix: 'postern-mailbox-' });
const { check, cli, screenshot } = flow;
const BOB = 'bob@example.org', BOB_PASSWORD = 'bobs password';

// --- a line-based client over one socket: send a line, read a reply (RFC 5321 / RFC 1939) ---
function lineClient(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffer = '';
  let waiter = null;
  socket.on('data', (c) => { buffer += c; if (waiter) waiter(); });
  const closed = new Promise((r) => socket.on('close', r));
  socket.on('error', () => {});
  // Resolves with the text up to and including the first match of `end`.
  const read = (end) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiter = null; reject(new Error(`timed out on port ${port}: ${buffer.slice(-300)}`)); }, scaled(20000));
    const tryRead = () => {
      const m = buffer.match(end);
      if (!m) return;
      clearTimeout(timer);
      waiter = null;
      const text = buffer.slice(0, m.index + m[0].length);
      buffer = buffer.slice(m.index + m[0].length);
      resolve(text);
    };
    waiter = tryRead;
    tryRead();
  });
  return { socket, read, closed, write: (s) => socket.write(s, 'latin1') };
}

// One SMTP transaction; with `cut`, the connection is dropped after that much of the body.
async function smtpSend(port, message, cut) {
  const c = lineClient(port);
  const reply = /^(\d{3}) [^\r\n]*\r\n/m;
  const expect = async (code) => {
    const text = await c.read(reply);
    if (!text.match(/(\d{3}) [^\r\n]*\r\n$/) || !text.trimEnd().split('\r\n').pop().startsWith(String(code)))
      throw new Error(`SMTP: expected ${code}, got ${text}`);
  };
  await expect(220);
  for (const [line, code] of [['EHLO browser.test', 250], ['MAIL FROM:<alice@example.net>', 250], [`RCPT TO:<${BOB}>`, 250], ['DATA', 354]]) {
    c.write(line + '\r\n');
    await expect(code);
  }
  const data = message.replace(/\r?\n/g, '\r\n');
  if (cut) {
    c.write(data.slice(0, cut));
    c.socket.destroy();  // the link drops mid-body: a broken DATA
    return;
  }
  c.write(data + '\r\n.\r\n');
  await expect(250);
  c.write('QUIT\r\n');
  await expect(221);
  c.socket.end();
}

// A POP3 session (plaintext USER/PASS is allowed from loopback): UIDL, optional RETR, QUIT.
async function pop3(port, ...retrs) {
  const c = lineClient(port);
  const ok = async () => { const t = await c.read(/\r\n/); if (!t.startsWith('+OK')) throw new Error('POP3: ' + t); return t; };
  await ok();
  c.write(`USER ${BOB}\r\n`); await ok();
  c.write(`PASS ${BOB_PASSWORD}\r\n`); await ok();
  c.write('UIDL\r\n'); await ok();
  const listing = await c.read(/^\.\r\n/m);
  const uidls = listing.split('\r\n').filter((l) => l && l !== '.').map((l) => l.split(' ')[1]);
  c.write('LIST\r\n'); await ok();
  const sizes = (await c.read(/^\.\r\n/m)).split('\r\n').filter((l) => l && l !== '.').map((l) => Number(l.split(' ')[1]));
  const messages = {};
  for (const n of retrs) {
    c.write(`RETR ${n}\r\n`); await ok();
    // RFC 1939 §3: the terminating line removed, then the dot-stuffing.
    messages[n] = (await c.read(/\r\n\.\r\n/)).slice(0, -3).replace(/^\.\./gm, '.');
  }
  c.write('QUIT\r\n'); await ok();
  c.socket.end();
  return { uidls, sizes, messages };
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function messageCount() {
  const line = cli('user', 'list').split('\n').find((l) => l.startsWith(BOB + ' '));
  return line ? Number(line.trim().split(/\s+/)[1]) : -1;
}

// The elements of `selector` that are not fully usable at the viewport's width: (partly)
// outside it, or squeezed so that their label wraps or overflows.
async function offscreen(page, selector) {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)].filter((e) => {
    const r = e.getBoundingClientRect();
    const line = parseFloat(getComputedStyle(e).lineHeight) || 20;
    return r.width === 0 || r.left < 0 || r.right > window.innerWidth ||
      e.scrollWidth > e.clientWidth + 1 || r.height > 2 * line;
  }).map((e) => e.textContent + ' ' + JSON.stringify(e.getBoundingClientRect())), selector);
}

const PROBE = '<img src=x onerror="window.__xss=1">';

await flow.run(async () => {
  flow.configure();
  cli('set', 'partial_policy', 'keep-as-alert');
  // A fixed HTTP port, so the page finds postern again after the restart at the end.
  cli('set', 'http_port', String(await freePort()));
  cli('domain', 'add', 'example.org');
  const added = spawnSync(flow.binary, ['user', 'add', BOB, '--data', flow.data], { input: BOB_PASSWORD + '\n', encoding: 'utf8' });
  if (added.status !== 0) throw new Error('user add: ' + added.stderr);
  const { setupUrl, ports } = await flow.serve();

  // Mail: a large message (several 64 KiB chunks, for the streamed download), a message (and
  // its retry, suppressed), an XSS probe, and a partial never completed.
  const lines = [];
  for (let i = 0; i < 4000; i++) lines.push(`line ${i} of the attachment ` + 'abcdefghij'.repeat(4));
  await smtpSend(ports.smtp, 'From: Dave <dave@example.net>\nTo: bob@example.org\nSubject: Scans\n\n' +
    lines.join('\n') + '\n');
  const hello = 'From: Alice <alice@example.net>\nTo: bob@example.org\nSubject: Hello Bob\n' +
    'Message-ID: <hello-1@example.net>\n\nThe first line of the greeting.\nThe second line.\n';
  await smtpSend(ports.smtp, hello);
  await smtpSend(ports.smtp, hello);
  await smtpSend(ports.smtp, `From: ${PROBE} <x@example.net>\nTo: bob@example.org\nSubject: ${PROBE}\n` +
    `Message-ID: <probe@example.net>\n\n<script>window.__xss=2</script>${PROBE}\n`);
  const partial = 'From: Carol <carol@example.net>\nTo: bob@example.org\nSubject: Big report\n' +
    'Message-ID: <report-7@example.net>\n\nPart one of the report.\n' + 'x'.repeat(4000) + '\n';
  await smtpSend(ports.smtp, partial, 300);
  await until(() => messageCount() === 4, 'the kept partial beside the three messages', 15000);
  check('a broken DATA is kept as a partial (keep-as-alert)', /partial-kept/.test(cli('events', '--json')));

  // A POP3 client downloads the large message and the greeting, and QUITs without deleting.
  const before = await pop3(ports.pop3, 1, 2);
  check('POP3 lists the four messages', before.uidls.length === 4, before.uidls.join(' '));

  // Refused logins (401) are part of the flow, and so is the page polling while postern restarts.
  const { page, pageErrors } = await flow.browser(/status of 401|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/);
  page.on('dialog', (d) => d.accept());
  await flow.firstStart(page, setupUrl);
  await page.click('#logout');
  await page.locator('#login-view').waitFor({ state: 'visible' });

  // --- the owner's view ---
  await page.fill('#owner-address', BOB);
  await page.fill('#owner-password', 'wrong password');
  await page.click('#owner-submit');
  await page.locator('#owner-form .msg.error').waitFor();
  check('a wrong mailbox password is refused', (await page.textContent('#owner-form .msg')) === 'Wrong address or password.');
  await page.fill('#owner-password', BOB_PASSWORD);
  await page.click('#owner-submit');
  await page.locator('#box-list article').nth(3).waitFor();
  check('the owner logs in with the mailbox address and password', await page.isVisible('#box-view'));
  check('the owner sees no admin view', !(await page.isVisible('#main-view')) && !(await page.isVisible('#nav')));
  const subjects = await page.locator('#box-list .subject').allTextContents();
  check('messages are listed newest first', subjects[0].startsWith('[INCOMPLETE]') && subjects[2] === 'Hello Bob' &&
    subjects[3] === 'Scans', subjects.join(' | '));
  const partialItem = page.locator('#box-list article', { hasText: 'Big report' });
  check('the partial carries the partial badge', (await partialItem.locator('.badge.bad').textContent()).startsWith('partial'));
  const helloItem = page.locator('#box-list article', { hasText: 'Hello Bob' });
  const helloBadges = (await helloItem.locator('.badge').allTextContents()).join(' | ');
  check('the suppressed retry is shown on the original', /1 copy suppressed as duplicate/.test(helloBadges), helloBadges);
  check('the download by the POP3 client is shown', /already downloaded by 127\.0\.0\.1/.test(helloBadges), helloBadges);
  check('the preview shows the first lines as text',
    (await helloItem.locator('pre.preview').textContent()) === 'The first line of the greeting.\nThe second line.');
  check('the page says when a POP3 session sees a deletion', /next login/.test(await page.textContent('#box-note')));

  // The XSS probe: visible as text, and no element made from it.
  const probeItem = page.locator('#box-list article', { hasText: 'onerror' });
  check('the probe subject shows as text', (await probeItem.locator('.subject').textContent()) === PROBE);
  check('the probe sender shows as text', (await probeItem.locator('.meta').textContent()).includes(PROBE));
  check('the probe body shows as text', (await probeItem.locator('pre.preview').textContent()).includes('<script>window.__xss=2</script>'));
  const made = await page.evaluate(() => ({ img: document.querySelectorAll('#box-view img, #box-view script').length, xss: window.__xss }));
  check('no element was made from the probe and nothing ran', made.img === 0 && made.xss === undefined, JSON.stringify(made));

  // "Download .eml" gives the stored bytes, as POP3 RETR does.
  const [download] = await Promise.all([page.waitForEvent('download'), helloItem.locator('a', { hasText: 'Download .eml' }).click()]);
  const eml = fs.readFileSync(await download.path(), 'latin1');
  check('the .eml download is the message byte for byte', eml === before.messages[2], `${eml.length} vs ${before.messages[2].length}`);
  // The large one is streamed a 64 KiB chunk at a time; the bytes are the same as RETR's.
  const scans = page.locator('#box-list article', { hasText: 'Scans' });
  const [big] = await Promise.all([page.waitForEvent('download'), scans.locator('a', { hasText: 'Download .eml' }).click()]);
  const bigEml = fs.readFileSync(await big.path(), 'latin1');
  check('a multi-chunk .eml download is the message byte for byte', bigEml.length > 3 * 65536 && bigEml === before.messages[1],
    `${bigEml.length} vs ${before.messages[1].length}`);

  // A phone-sized screenshot of the owner's view.
  await page.setViewportSize({ width: 390, height: 844 });
  check('the mailbox view fits a 390 px phone', (await offscreen(page, '#box-list button, #box-list a, #box-delete')).length === 0);
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-owner-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Delete the partial.
  await partialItem.locator('button', { hasText: 'Delete' }).click();
  await page.locator('#box-msg.ok', { hasText: 'Deleted 1 message.' }).waitFor();
  await until(async () => (await page.locator('#box-list article').count()) === 3, 'the list without the partial', 10000);
  check('the partial is gone from the page', (await page.locator('#box-list article', { hasText: 'Big report' }).count()) === 0);
  const after = await pop3(ports.pop3);
  const partialUidl = before.uidls[3];
  check('over POP3 the partial is gone', after.uidls.length === 3 && !after.uidls.includes(partialUidl), after.uidls.join(' '));
  check('the UIDLs of the rest are unchanged', after.uidls.join(' ') === before.uidls.slice(0, 3).join(' '),
    `${before.uidls.join(' ')} -> ${after.uidls.join(' ')}`);
  check('the deletion is in the event log', /deleted-from-page/.test(cli('events', '--json')));
  await page.click('#box-close');
  await page.locator('#login-view').waitFor({ state: 'visible' });
  check('the owner logs out', true);

  // With duplicates allowed, the greeting sent once more is stored: a copy of message 2.
  cli('set', 'allow_duplicates', 'yes');
  const reloaded = waitFor(flow.server.stderr, /event=reloaded/, 'the settings reload', 15000);
  flow.server.kill('SIGHUP');
  await reloaded;
  await smtpSend(ports.smtp, hello);
  await until(() => messageCount() === 4, 'the stored duplicate', 10000);

  // --- the admin opens the same mailbox ---
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#main-view').waitFor({ state: 'visible' });
  await page.locator('#users tr', { hasText: BOB }).locator('button', { hasText: 'Open' }).click();
  await page.locator('#box-list article').nth(3).waitFor();
  check('the admin opens the mailbox', (await page.locator('#box-list article').count()) === 4 &&
    (await page.textContent('#box-title')).startsWith(BOB));
  const copy = (await page.locator('#box-list article').first().locator('.badge').allTextContents()).join(' | ');
  check('a stored second copy is marked as a duplicate of the first', copy === 'duplicate of message 2', copy);
  // Delete several at once: the copy and the probe, ticked and deleted together.
  await page.locator('#box-list article').first().locator('input[type=checkbox]').check();
  await page.locator('#box-list article', { hasText: 'onerror' }).locator('input[type=checkbox]').check();
  await page.click('#box-delete');
  await page.locator('#box-msg.ok', { hasText: 'Deleted 2 messages.' }).waitFor();
  const left = await pop3(ports.pop3);
  check('the admin deletes two at once; the UIDLs left are unchanged', left.uidls.join(' ') === [before.uidls[0], before.uidls[1]].join(' '),
    left.uidls.join(' '));
  await page.click('#box-close');

  // The users table on a 390 px phone: every button inside the viewport.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#users button').first().scrollIntoViewIfNeeded();
  const cut = await offscreen(page, '#users button, #domains button');
  check('the users table buttons are visible at 390 px', cut.length === 0, cut.join('; '));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('no sideways scrolling at 390 px', overflow <= 0, `${overflow}px`);
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.locator('#mailboxes').screenshot({ path: screenshot.replace(/\.png$/, '-users-phone.png') });
  check('screenshot saved', fs.statSync(screenshot).size > 10000, screenshot);
  await page.setViewportSize({ width: 1280, height: 900 });

  // --- restart: a saved port waits for it; the button restarts postern ---
  const newPort = await freePort();
  await page.fill('#set-pop3_port', String(newPort));
  await page.click('#save-ports');
  await page.locator('#settings-ports .msg.ok').waitFor();
  await page.reload();
  await page.locator('#restart-banner').waitFor({ state: 'visible' });
  const banner = await page.textContent('#restart-text');
  check('the banner names the change that waits for a restart', banner.includes(`pop3_port 0 → ${newPort}`), banner);
  const old = flow.server;
  const exited = new Promise((r) => old.once('exit', (code) => r(code)));
  await page.click('#restart-now');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), scaled(30000)))]);
  check('"restart now" stops postern cleanly with status 75', code === 75, `exit ${code}`);
  check('postern logged the requested restart', /event=restarting reason=page-request/.test(flow.stderrText));
  // This script is the supervisor: start it again, as procd, systemd or the firmware's init do.
  const again = spawn(flow.binary, ['serve', '--data', flow.data], { stdio: ['ignore', 'pipe', 'pipe'] });
  flow.server = again;
  again.stdout.setEncoding('utf8');
  again.stderr.setEncoding('utf8');
  again.stderr.on('data', (c) => { flow.stderrText += c; });
  const ready = await waitFor(again.stdout, /postern ready .*\n/, 'the ready line after the restart', 30000);
  check('after the restart the saved POP3 port is the one bound', ready[0].includes(` pop3=${newPort} `), ready[0].trim());
  // The page noticed the restart and reloaded; the admin session ended with the process.
  await page.locator('#login-view').waitFor({ state: 'visible', timeout: scaled(30000) });
  check('the page comes back by itself after the restart', true);
  check('no script errors on the page', pageErrors.length === 0, pageErrors.join('; '));
});
