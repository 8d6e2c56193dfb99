// Browser test of the Diagnostics section: a trace to 127.0.0.1 streams hop 1 into the
// table, an injection string gets the validator's message, and the link chart (inline SVG)
// draws the monitor's samples of 127.0.0.1 (link_monitor_targets, 1 s interval).
// Usage: node diag_flow.mjs POSTERN_BINARY [SCREENSHOT.png]
// Uses Debian's chromium through playwright-core (harness.mjs); never downloads a browser.
// Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { openFlow, scaled, until } from './harness.mjs';

const flow = await openFlow({ script: 'diag_flow.mjs', screenshot: 'diagnostics.png', tmpPrefix: 'postern-diag-' });
const { check, cli, screenshot } = flow;

await flow.run(async () => {
  flow.configure();
  // The test hook: probe loopback every second instead of the gateway every minute.
  cli('set', 'link_monitor_targets', '127.0.0.1');
  cli('set', 'link_monitor_interval_s', '1');
  const refused = spawnSync(flow.binary, ['set', 'link_monitor_targets', '127.0.0.1;reboot', '--data', flow.data],
    { encoding: 'utf8' });
  check('a bad monitor target is refused by the settings', refused.status !== 0 && /link_monitor_targets/.test(refused.stderr + refused.stdout),
    (refused.stderr + refused.stdout).trim());

  const { setupUrl } = await flow.serve();

  // The refused trace (400) is part of the flow; a 404, 500 or a script error is not.
  const { page, pageErrors } = await flow.browser(/status of (400|401)/);

  await flow.firstStart(page, setupUrl);
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
});
