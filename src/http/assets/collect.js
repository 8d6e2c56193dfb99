// postern status page: the collected mailboxes (issue 19). Uses app.js's
// helpers ($, el, api, say, bytes, when). Every server value goes in through
// textContent. The password field is write-only: sent once, never read back.
'use strict';

const collect = { timer: 0, accounts: [] };

function collectKeepText(keep) {
  if (keep === 'leave') return 'leaves the mail on the server';
  if (keep === 'delete') return 'deletes each mail from the server once it is stored here';
  return 'deletes each mail from the server ' + parseInt(keep, 10) + ' days after it is stored here';
}

function collectMb(n) { return (n / 1e6).toFixed(1) + ' MB'; }

// The status in words: under way, the last error, or when it last ran.
function collectStatus(a) {
  if (a.running) {
    const p = a.progress;
    if (!p) return ['Collecting now (started by `postern collect now`).', 'ok'];
    if (p.to_fetch === 0 && p.fetched === 0) return ['Collecting now: looking at the server…', 'ok'];
    return ['Collecting now: ' + p.fetched + '/' + p.to_fetch + ' mails, ' + collectMb(p.bytes) + '.', 'ok'];
  }
  if (a.error) return [a.error.charAt(0).toUpperCase() + a.error.slice(1) + '.', 'error'];
  if (!a.last_run) return ['Not collected yet; the first run starts within a few seconds.', ''];
  return ['Last run ' + when(a.last_run) + ': fine.', 'ok'];
}

function collectDetails(a) {
  const parts = [];
  parts.push(a.mails + (a.mails === 1 ? ' mail' : ' mails') + ' (' + bytes(a.bytes) + ') collected in all');
  if (a.last_run) parts.push('last run ' + when(a.last_run));
  if (a.last_success && a.last_success !== a.last_run) parts.push('last success ' + when(a.last_success));
  parts.push(a.next_run ? 'next run ' + when(a.next_run) : 'next run soon');
  return parts.join(' · ') + '.';
}

function collectAccount(a) {
  const [text, kind] = collectStatus(a);
  const msg = el('p', { class: 'msg' });
  const act = async (body, done) => {
    const r = await api('POST', '/api/collect', body);
    msg.className = 'msg ' + (r.ok ? 'ok' : 'error');
    msg.textContent = r.ok ? (r.data.message || done) : (r.data.error || 'That failed (HTTP ' + r.status + ').');
    loadCollect();
  };
  const buttons = [
    el('button', { class: 'small', type: 'button', 'data-action': 'now', onclick: () => act({ action: 'now', id: a.id }) }, 'Collect now'),
    el('button', { class: 'small secondary', type: 'button', onclick: () => {
      // The link diagnostics' own trace form, aimed at this account's server.
      $('trace-host').value = a.host;
      $('diagnostics').scrollIntoView();
      $('trace-form').requestSubmit();
    } }, 'Trace the link'),
  ];
  if (a.fingerprint) {
    buttons.push(el('button', { class: 'small secondary', type: 'button', onclick: () => {
      if (confirm('Trust the certificate with SHA-256 fingerprint ' + a.fingerprint + ' for ' + a.host + '? Only if you know it is your provider\'s.')) act({ action: 'pin', id: a.id, fingerprint: a.fingerprint });
    } }, 'Trust this certificate'));
  }
  buttons.push(el('button', { class: 'small danger', type: 'button', onclick: () => {
    if (confirm('Stop collecting ' + a.user + '@' + a.host + '? The mail already collected stays.')) act({ action: 'remove', id: a.id });
  } }, 'Remove'));
  const security = a.tls === 'plain' ? 'no encryption' : a.tls.toUpperCase() + (a.pinned ? ', pinned certificate' : '');
  return el('div', { class: 'group collect-account', 'data-id': String(a.id) },
    el('h3', {}, a.user + '@' + a.host + ' → ' + a.mailbox),
    el('p', { class: 'msg collect-status ' + kind }, text),
    el('p', { class: 'hint' }, collectDetails(a)),
    el('p', { class: 'hint' }, 'Port ' + a.port + ', ' + security + '; every ' + Math.round(a.interval / 60) + ' min; ' + collectKeepText(a.keep) + '.'),
    a.no_uidl ? el('p', { class: 'hint' }, 'This server has no UIDL: mails are told apart by a digest of their headers.') : null,
    el('div', { class: 'box-tools' }, ...buttons),
    msg);
}

async function loadCollect() {
  clearTimeout(collect.timer);
  if ($('main-view').hidden) return;
  const r = await api('GET', '/api/collect');
  if (r.ok && r.data.available === false) { $('collect').hidden = true; return; }
  if (r.ok) {
    collect.accounts = r.data.accounts;
    const list = collect.accounts.map(collectAccount);
    if (list.length === 0) list.push(el('p', { class: 'hint' }, 'No external accounts yet.'));
    $('collect-list').replaceChildren(...list);
  }
  const running = r.ok && collect.accounts.some((a) => a.running || !a.last_run);
  collect.timer = setTimeout(loadCollect, running ? 1000 : 10000);
  if (running && $('collect-mailbox').options.length > 0) return;  // the list changes rarely
  const users = await api('GET', '/api/mailboxes');
  if (users.ok) {
    const box = $('collect-mailbox'), chosen = box.value;
    box.replaceChildren(...users.data.users.map((u) => el('option', { value: u.address }, u.address)));
    if (chosen) box.value = chosen;
  }
}

function wireCollect() {
  const form = $('collect-form');
  const sync = () => {
    $('collect-plain-row').hidden = $('collect-tls').value !== 'plain';
    const days = $('collect-keep').value === 'days';
    $('collect-days-row').hidden = !days;
    $('collect-days').hidden = !days;
  };
  $('collect-tls').addEventListener('change', sync);
  $('collect-keep').addEventListener('change', sync);
  sync();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const keep = $('collect-keep').value;
    const minutes = parseInt($('collect-interval').value, 10);
    const body = {
      action: 'add', mailbox: $('collect-mailbox').value, host: $('collect-host').value.trim(),
      tls: $('collect-tls').value, allow_plain: $('collect-plain').checked,
      port: $('collect-port').value.trim(), user: $('collect-user').value,
      password: $('collect-password').value,
      keep: keep === 'days' ? $('collect-days').value.trim() + 'd' : keep,
      interval: Number.isFinite(minutes) ? String(minutes * 60) : '', pin: $('collect-pin').value.trim(),
    };
    const r = await api('POST', '/api/collect', body);
    $('collect-password').value = '';  // write-only: never kept in the page
    say(form, r.ok, r.ok ? r.data.message : (r.data.error || 'Adding failed (HTTP ' + r.status + ').'));
    if (r.ok) {
      for (const id of ['collect-host', 'collect-port', 'collect-user', 'collect-pin']) $(id).value = '';
      loadCollect();
    }
  });
}

wireCollect();
