// postern status page: plain JavaScript, no framework. Every value from the
// server goes in through textContent, never innerHTML.
'use strict';

const state = { csrf: '', timer: 0, settings: [], tracing: false, box: null };
const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

async function api(method, path, body, token) {
  const options = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  if (method !== 'GET') options.headers['X-CSRF-Token'] = token ?? state.csrf;
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    return { ok: false, status: 0, data: { error: 'The appliance did not answer; check the network.' } };
  }
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (response.status === 401 && !path.endsWith('/login')) showLogin();
  return { ok: response.ok, status: response.status, data };
}

function say(form, ok, text) {
  const msg = form.querySelector('.msg');
  msg.textContent = text;
  msg.className = 'msg ' + (ok ? 'ok' : 'error');
}

// --- formatting ---
function bytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}
function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return d + 'd ' + h + 'h';
  if (h > 0) return h + 'h ' + m + 'm';
  return m + 'm ' + (s % 60) + 's';
}
function when(t) {
  return new Date(t * 1000).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}
function tile(label, value, sub, fraction) {
  const t = el('div', { class: 'tile' }, el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, String(value)));
  if (sub) t.append(el('div', { class: 'sub' }, sub));
  if (fraction != null) {
    const fill = el('span');
    fill.style.width = Math.min(100, Math.round(fraction * 100)) + '%';
    t.append(el('div', { class: 'bar' + (fraction > 0.85 ? ' high' : '') }, fill));
  }
  return t;
}

// --- views ---
function show(view) {
  for (const id of ['setup-view', 'login-view', 'main-view']) $(id).hidden = id !== view;
  $('nav').hidden = view !== 'main-view';
  if (view !== 'main-view') clearInterval(state.timer);
  if (view !== 'main-view' || !state.box || state.box.owner) $('box-view').hidden = true;
}
function showLogin() { show('login-view'); $('login-password').focus(); }

async function start() {
  const r = await api('GET', '/api/session');
  if (!r.ok) return showLogin();
  if (r.data.setup_required) {
    show('setup-view');
    return;
  }
  if (r.data.mailbox && !r.data.logged_in) return openBox(r.data.mailbox.address, r.data.mailbox.csrf);
  if (!r.data.logged_in) return showLogin();
  state.csrf = r.data.csrf;
  enterMain();
}

function enterMain() {
  show('main-view');
  refresh();
  loadMailboxes();
  loadSettings();
  if (typeof loadCollect === 'function') loadCollect();  // collect.js
  clearInterval(state.timer);
  state.timer = setInterval(refresh, 10000);
}

async function refresh() {
  const r = await api('GET', '/api/status');
  if (!r.ok) return;
  const o = r.data.overview, h = r.data.health, pending = r.data.restart.pending;
  $('restart-banner').hidden = pending.length === 0;
  $('restart-text').textContent = 'Saved, waiting for a restart: ' +
    pending.map((p) => p.key + (p.key === 'certificate' ? '' : ' ' + p.running + ' → ' + p.saved)).join(', ') + '.';
  $('host').textContent = o.hostname;
  const conns = Object.entries(o.connections).map(([k, v]) => k + ' ' + v).join(' · ');
  const total = Object.values(o.connections).reduce((a, b) => a + b, 0);
  $('tiles').replaceChildren(
    ...(o.storage_problem ? [el('div', { class: 'issue', role: 'alert' }, o.storage_problem)] : []),
    tile('Uptime', duration(o.uptime_s), 'version ' + o.version + ' · ' + o.board),
    tile('Messages stored', o.messages, o.users + ' users · ' + o.domains + ' domains'),
    tile('Received today', o.received_today ?? '—', 'since midnight'),
    tile('Retrieved today', o.retrieved_today ?? '—', o.retrieved_today == null ? 'not counted by this version' : 'since midnight'),
    tile('Connections now', total, conns || 'none'),
    tile('Memory in use', bytes(o.memory_rss_bytes), 'resident set'),
    tile('Store', bytes(o.map_used_bytes), 'of ' + bytes(o.map_bytes) + ' map', o.map_bytes ? o.map_used_bytes / o.map_bytes : null),
    tile('Disk free', bytes(o.disk_free_bytes), 'of ' + bytes(o.disk_total_bytes),
      o.disk_total_bytes ? 1 - o.disk_free_bytes / o.disk_total_bytes : null));
  $('footer').textContent = 'postern ' + o.version + ' · ports ' +
    Object.entries(o.ports).map(([k, v]) => k + ' ' + v).join(', ') + ' · updated ' + when(o.now);

  $('health-tiles').replaceChildren(
    tile('Duplicates suppressed', h.duplicates_suppressed, 'retries answered, not stored twice'),
    tile('Partials discarded', h.partials_discarded, 'broken transfers dropped'),
    tile('Partials kept', h.partials_kept, 'kept as alerts'),
    tile('Partials superseded', h.partials_superseded, 'replaced by the full copy'));
  const box = $('abnormal');
  if (h.abnormal_ends.length === 0) {
    box.replaceChildren(el('p', { class: 'ok-note' }, 'Every mail client ended its sessions cleanly.'));
  } else {
    box.replaceChildren(...h.abnormal_ends.map((a) => el('div', { class: 'issue' },
      el('div', {}, el('span', { class: 'who' }, a.user), ' from ', el('span', { class: 'mono' }, a.client),
        ': ' + a.count + (a.count === 1 ? ' time' : ' times') + ', last ' + when(a.last_time) +
        ', ' + a.retrieved_not_removed + ' messages fetched but not removed'),
      el('p', {}, a.explanation),
      a.trace ? el('p', { class: 'mono' }, 'Trace ' + when(a.trace.time) + ': ' + traceSummary(a.trace)) : null)));
  }
  const traces = h.auto_traces || [];
  $('auto-traces').replaceChildren(traces.length === 0
    ? el('p', { class: 'hint' }, 'No session broke off recently, so nothing was traced.')
    : el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Time'),
      el('th', {}, 'Peer'), el('th', {}, 'Result'), el('th', {}, 'Path'))),
    el('tbody', {}, ...traces.map((t) => el('tr', {}, el('td', {}, when(t.time)),
      el('td', { class: 'mono' }, t.peer), el('td', {}, traceSummary(t)),
      el('td', { class: 'mono' }, t.path.split(',').join(' → '))))))));
  const rows = r.data.events.map((e) => el('tr', {}, el('td', {}, when(e.time)), el('td', {}, e.kind),
    el('td', {}, e.sentence)));
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { class: 'empty', colspan: '3' }, 'No events yet.')));
  $('events').tBodies[0].replaceChildren(...rows);
  $('diag-note').textContent = r.data.diagnostics.note;
  $('trace-form').hidden = !r.data.diagnostics.available;
  if (r.data.diagnostics.available) loadLinks();
}

function traceSummary(t) {
  return (t.reached ? 'reached' : 'not reached') + ' in ' + t.hops + (t.hops === 1 ? ' hop' : ' hops') +
    ', last hop ' + (t.rtt_ms === '-' ? 'silent' : t.rtt_ms + ' ms') + ', loss ' + t.loss + '%';
}

// --- diagnostics: a trace polled every 500 ms while it runs ---
function ms(us) { return us >= 1000 ? (us / 1000).toFixed(1) + ' ms' : (us / 1000).toFixed(2) + ' ms'; }

function hopRow(h) {
  const address = h.address || '*';
  return el('tr', {}, el('td', { class: 'num' }, String(h.ttl)),
    el('td', { class: 'mono' }, address + (h.also.length ? ' (also ' + h.also.join(', ') + ')' : '') +
      (h.unreachable ? ' !unreachable' : '')),
    el('td', { class: 'num' }, h.received ? ms(h.rtt_avg_us) : '—'),
    el('td', { class: 'num' }, h.loss + '%'), el('td', { class: 'num' }, h.mtu ? String(h.mtu) : '—'));
}

async function pollTrace(id, form) {
  const r = await api('GET', '/api/trace/' + encodeURIComponent(id));
  if (!r.ok) { state.tracing = false; return say(form, false, r.data.error || 'The trace was lost.'); }
  const t = r.data;
  $('trace-hops').hidden = false;
  $('trace-hops').tBodies[0].replaceChildren(...t.hops.map(hopRow));
  if (!t.done) {
    say(form, true, 'Tracing ' + t.target + '… ' + t.hops.length + (t.hops.length === 1 ? ' hop' : ' hops') + ' so far');
    setTimeout(() => pollTrace(id, form), 500);
    return;
  }
  state.tracing = false;
  const via = (t.mx ? ' (mail exchanger ' + t.mx + ')' : '') + (t.address && t.address !== t.target ? ' [' + t.address + ']' : '');
  if (t.outcome === 'reached') say(form, true, 'Reached ' + t.target + via + ' in ' + t.hops.length + (t.hops.length === 1 ? ' hop.' : ' hops.'));
  else say(form, false, t.message || ('Not reached (' + t.outcome.replace('_', ' ') + ')' + via + '.'));
}

// --- diagnostics: the link chart, inline SVG drawn here (no library) ---
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}
function clock(t) { return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }

function linkChart(series, since, now) {
  const W = 420, H = 150, L = 48, R = 34, T = 10, B = 20, w = W - L - R, h = H - T - B;
  // The time axis spans the window, or only the samples there are (at least a minute).
  if (series.samples.length) since = Math.min(now - 60000, Math.max(since, series.samples[0][0]));
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': 'Round trip and loss to ' + series.target });
  const answered = series.samples.filter((s) => s[1] >= 0).map((s) => s[1] / 1000);
  const top = Math.max(0.1, ...answered) * 1.15;
  const x = (t) => L + Math.max(0, Math.min(1, (t - since) / (now - since))) * w;
  const y = (v) => T + h - (v / top) * h;
  chart.append(svg('line', { x1: L, y1: T + h, x2: L + w, y2: T + h, class: 'axis x-axis' }),
    svg('line', { x1: L, y1: T, x2: L, y2: T + h, class: 'axis y-axis' }),
    svg('line', { x1: L + w, y1: T, x2: L + w, y2: T + h, class: 'axis loss-axis' }),
    svg('text', { x: L - 4, y: T + 8, class: 'tick end' }, top.toFixed(top < 1 ? 2 : top < 10 ? 1 : 0) + ' ms'),
    svg('text', { x: L - 4, y: T + h, class: 'tick end' }, '0'),
    svg('text', { x: L + w + 4, y: T + 8, class: 'tick loss' }, '100%'),
    svg('text', { x: L, y: H - 6, class: 'tick' }, clock(since)),
    svg('text', { x: L + w, y: H - 6, class: 'tick end' }, clock(now)));
  const bar = Math.max(2, w / Math.max(60, series.samples.length));
  for (const [t, , sent, lost] of series.samples) {
    if (lost === 0 || sent === 0) continue;
    const bh = (lost / sent) * h;
    chart.append(svg('rect', { x: x(t) - bar / 2, y: T + h - bh, width: bar, height: bh, class: 'loss-bar' },
      null));
  }
  const points = series.samples.filter((s) => s[1] >= 0).map((s) => x(s[0]).toFixed(1) + ',' + y(s[1] / 1000).toFixed(1));
  if (points.length > 1) chart.append(svg('polyline', { points: points.join(' '), class: 'rtt-line' }));
  for (const p of points.length === 1 ? points : []) {
    const [cx, cy] = p.split(',');
    chart.append(svg('circle', { cx, cy, r: 3, class: 'rtt-dot' }));
  }
  if (series.samples.length === 0) {
    chart.append(svg('text', { x: L + w / 2, y: T + h / 2, class: 'tick middle' }, 'No samples yet'));
  }
  return chart;
}

async function loadLinks() {
  const r = await api('GET', '/api/links');
  if (!r.ok) return;
  const since = r.data.since * 1000, now = r.data.now * 1000;
  const charts = r.data.targets.map((s) => {
    const last = s.samples[s.samples.length - 1];
    const latest = last ? (last[1] >= 0 ? ms(last[1]) : 'no answer') + ', loss ' + Math.round(100 * last[3] / last[2]) + '%' : 'waiting for the first probe';
    return el('figure', { class: 'link' }, el('figcaption', {}, el('span', { class: 'mono' }, s.target),
      ' ' + s.role + ' · ' + latest), linkChart(s, since, now));
  });
  if (charts.length === 0) charts.push(el('p', { class: 'hint' }, 'No link is watched: no default gateway or DNS server was found.'));
  $('link-charts').replaceChildren(...charts);
}

const RULES = [['content', 'Same content'], ['content-or-message-id', 'Same content or Message-ID'], ['off', 'Off']];

function select(options, value, props) {
  const s = el('select', props || {});
  for (const [v, label] of options) {
    const o = el('option', { value: v }, label);
    if (v === value) o.selected = true;
    s.append(o);
  }
  return s;
}

async function loadMailboxes() {
  const r = await api('GET', '/api/mailboxes');
  if (!r.ok) return;
  const drows = r.data.domains.map((d) => {
    const rule = select(RULES, d.dedup_rule, { 'aria-label': 'Duplicate rule for ' + d.name });
    rule.addEventListener('change', () => change('/api/domains',
      { action: 'dedup', name: d.name, dedup_rule: rule.value }, $('domain-form'), 'Rule saved for ' + d.name + '.'));
    return el('tr', {}, el('td', {}, d.name), el('td', {}, rule), el('td', { class: 'actions' },
      el('button', { class: 'small danger', type: 'button', onclick: () => {
        if (confirm('Remove the domain ' + d.name + '?')) change('/api/domains', { action: 'remove', name: d.name }, $('domain-form'), 'Domain removed.');
      } }, 'Remove')));
  });
  if (drows.length === 0) drows.push(el('tr', {}, el('td', { class: 'empty', colspan: '3' }, 'No domains yet: add the domain your mail is addressed to.')));
  $('domains').tBodies[0].replaceChildren(...drows);
  const urows = r.data.users.map((u) => el('tr', {}, el('td', {}, u.address),
    el('td', { class: 'num' }, String(u.messages)), el('td', { class: 'num' }, bytes(u.bytes)),
    el('td', { class: 'actions' },
      el('button', { class: 'small', type: 'button', onclick: () => openBox(u.address) }, 'Open'),
      el('button', { class: 'small secondary', type: 'button', onclick: () => {
        const pw = prompt('New password for ' + u.address + ' (at least 8 characters):');
        if (pw) change('/api/users', { action: 'password', address: u.address, password: pw }, $('user-form'), 'Password changed.');
      } }, 'Password'),
      el('button', { class: 'small danger', type: 'button', onclick: () => {
        if (confirm('Remove ' + u.address + ' and all of its mail?')) change('/api/users', { action: 'remove', address: u.address }, $('user-form'), 'User removed.');
      } }, 'Remove'))));
  if (urows.length === 0) urows.push(el('tr', {}, el('td', { class: 'empty', colspan: '4' }, 'No users yet.')));
  $('users').tBodies[0].replaceChildren(...urows);
}

// --- a mailbox: the owner's own (box.owner, its own session and token) or any, for the admin ---
function openBox(address, ownerToken) {
  state.box = { address, owner: ownerToken !== undefined, token: ownerToken, before: null, uids: new Set() };
  if (state.box.owner) { show('none'); $('footer').textContent = ''; }
  $('box-view').hidden = false;
  $('box-close').textContent = state.box.owner ? 'Log out' : 'Close';
  $('box-title').textContent = address;
  $('box-list').replaceChildren();
  $('box-all').checked = false;
  $('box-msg').textContent = '';
  loadBox();
  if (!state.box.owner) $('box-view').scrollIntoView();
}

function boxQuery(extra) {
  const q = new URLSearchParams(extra);
  if (!state.box.owner) q.set('address', state.box.address);
  return q.toString();
}

function badge(text, kind) { return el('span', { class: 'badge ' + (kind || '') }, text); }

function messageItem(m) {
  const box = el('input', { type: 'checkbox', 'aria-label': 'Select message ' + m.uid });
  box.addEventListener('change', () => { if (box.checked) state.box.uids.add(m.uid); else state.box.uids.delete(m.uid); });
  const badges = [];
  if (m.partial) badges.push(badge('partial: an incomplete delivery', 'bad'));
  if (m.duplicate_of) badges.push(badge('duplicate of message ' + m.duplicate_of));
  if (m.suppressed_copies) badges.push(badge(m.suppressed_copies + (m.suppressed_copies === 1 ? ' copy' : ' copies') +
    ' suppressed as duplicate, last ' + when(m.last_suppressed_at)));
  if (m.retrieved) badges.push(badge('already downloaded' + (m.retrieved_by ? ' by ' + m.retrieved_by + ', ' + when(m.retrieved_at) : ''), 'ok'));
  const link = el('a', { class: 'button small secondary', href: '/api/mailbox/message?' + boxQuery({ uid: m.uid }), download: m.uidl + '.eml' }, 'Download .eml');
  const del = el('button', { class: 'small danger', type: 'button', onclick: () => deleteMessages([m.uid]) }, 'Delete');
  return el('article', { class: 'msgitem', 'data-uid': String(m.uid) },
    el('div', { class: 'msgline' }, box, el('span', { class: 'subject' }, m.subject || '(no subject)')),
    el('div', { class: 'meta', title: m.date ? 'Date: ' + m.date : '' }, (m.from || '(no sender)') + ' · ' + when(m.received_at) + ' · ' + bytes(m.size)),
    badges.length ? el('div', { class: 'badges' }, ...badges) : null,
    m.preview ? el('pre', { class: 'preview' }, m.preview) : null,
    el('div', { class: 'msgactions' }, link, del));
}

async function loadBox() {
  const b = state.box;
  const r = await api('GET', '/api/mailbox/messages?' + boxQuery(b.before ? { before: b.before } : {}));
  if (state.box !== b) return;
  if (!r.ok) { $('box-msg').className = 'msg error'; $('box-msg').textContent = r.data.error || 'The mailbox could not be read.'; return; }
  $('box-title').textContent = r.data.address + ': ' + r.data.total + (r.data.total === 1 ? ' message, ' : ' messages, ') + bytes(r.data.bytes);
  $('box-note').textContent = r.data.note;
  const items = r.data.messages.map(messageItem);
  if (!b.before && items.length === 0) items.push(el('p', { class: 'hint' }, 'No messages.'));
  $('box-list').append(...items);
  b.before = r.data.next_before;
  $('box-more').hidden = b.before == null;
}

async function deleteMessages(uids) {
  const b = state.box, msg = $('box-msg');
  if (uids.length === 0) { msg.className = 'msg error'; msg.textContent = 'Select messages first.'; return; }
  if (!confirm('Delete ' + uids.length + (uids.length === 1 ? ' message' : ' messages') + ' for good?')) return;
  const body = { uids };
  if (!b.owner) body.address = b.address;
  const r = await api('POST', '/api/mailbox/delete', body, b.token);
  const text = r.ok ? 'Deleted ' + r.data.deleted + (r.data.deleted === 1 ? ' message.' : ' messages.') : (r.data.error || 'Deleting failed.');
  if (r.ok) openBox(b.address, b.token);  // the list again from the newest
  msg.className = 'msg ' + (r.ok ? 'ok' : 'error');
  msg.textContent = text;
}

async function change(path, body, form, done) {
  const r = await api('POST', path, body);
  say(form, r.ok, r.ok ? done : (r.data.error || 'The change failed (HTTP ' + r.status + ').'));
  if (r.ok) { loadMailboxes(); refresh(); }
  return r.ok;
}

// The settings the page offers, grouped; the server validates every value.
const YESNO = [['yes', 'Yes'], ['no', 'No']];
const GROUPS = [
  { id: 'mail', title: 'Mail', fields: [
    { key: 'hostname', label: 'Host name', help: 'Used in the SMTP greeting and the certificate.' },
    { key: 'max_message_bytes', label: 'Largest message (bytes)', type: 'number', help: 'At least 65536 (RFC 5321).' }] },
  { id: 'dedup', title: 'Duplicates', fields: [
    { key: 'allow_duplicates', label: 'Store every copy, even duplicates', options: YESNO },
    { key: 'dedup_window_h', label: 'Remember messages for (hours)', type: 'number', help: 'Senders retry for 4-5 days; 120 covers that.' },
    { key: 'dedup_rule', label: 'Default duplicate rule', options: RULES },
    { key: 'partial_policy', label: 'Broken transfers', options: [['discard', 'Discard'], ['keep-as-alert', 'Keep as an alert']] }] },
  { id: 'security', title: 'Security', fields: [
    { key: 'allow_plaintext_login', label: 'Allow POP3 passwords without TLS', options: YESNO,
      help: 'Only for old mail clients on a trusted network. Logins from the appliance itself (127.0.0.1, ::1) never need TLS.' }] },
  { id: 'ports', title: 'Ports', fields: [
    { key: 'smtp_port', label: 'SMTP', type: 'number' }, { key: 'pop3_port', label: 'POP3', type: 'number' },
    { key: 'pop3s_port', label: 'POP3S', type: 'number' }, { key: 'http_port', label: 'HTTP', type: 'number' },
    { key: 'https_port', label: 'HTTPS', type: 'number' }] },
];

async function loadSettings() {
  const r = await api('GET', '/api/settings');
  if (!r.ok) return;
  const byKey = Object.fromEntries(r.data.settings.map((s) => [s.key, s]));
  const forms = GROUPS.map((g) => {
    const present = g.fields.filter((f) => byKey[f.key]);
    const restart = present.some((f) => byKey[f.key].needs_restart);
    const form = el('form', { class: 'group', id: 'settings-' + g.id },
      el('h3', {}, g.title, restart ? ' ' : null, restart ? el('span', { class: 'badge' }, 'needs restart') : null));
    for (const f of present) {
      const s = byKey[f.key], id = 'set-' + f.key;
      const input = f.options ? select(f.options, s.value, { id })
        : el('input', { id, value: s.value, type: f.type || 'text', inputmode: f.type === 'number' ? 'numeric' : 'text' });
      if (!s.editable) input.disabled = true;
      input.dataset.key = f.key;
      input.dataset.initial = s.value;
      form.append(el('label', { for: id }, f.label), input);
      if (f.help) form.append(el('div', { class: 'field-help' }, f.help));
    }
    form.append(el('button', { type: 'submit', id: 'save-' + g.id }, 'Save'), el('p', { class: 'msg', role: 'status' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const changes = {};
      for (const input of form.querySelectorAll('[data-key]')) {
        if (input.value !== input.dataset.initial) changes[input.dataset.key] = input.value;
      }
      if (Object.keys(changes).length === 0) return say(form, true, 'Nothing changed.');
      const res = await api('POST', '/api/settings', { changes });
      if (!res.ok) return say(form, false, res.data.error || 'Saving failed.');
      for (const input of form.querySelectorAll('[data-key]')) input.dataset.initial = input.value;
      say(form, true, restart ? 'Saved. Restart postern to use the new ports.' : 'Saved and applied.');
    });
    return form;
  });
  $('setting-forms').replaceChildren(...forms);
}

function setupToken() {
  const hash = location.hash.replace(/^#/, '');
  if (/^[0-9a-f]{32}$/.test(hash)) return hash;
  return new URLSearchParams(location.search).get('token') || '';
}

function wire() {
  $('setup-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target, pw = $('setup-password').value;
    if (pw !== $('setup-repeat').value) return say(form, false, 'The two passwords differ.');
    const r = await api('POST', '/api/setup', { token: setupToken(), password: pw });
    if (!r.ok) return say(form, false, r.data.error || 'Set-up failed.');
    history.replaceState(null, '', '/');  // the token is spent: drop it from the address bar
    state.csrf = r.data.csrf;
    enterMain();
  });
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/api/login', { password: $('login-password').value });
    if (!r.ok) return say(ev.target, false, r.data.error || 'Login failed.');
    $('login-password').value = '';
    state.csrf = r.data.csrf;
    enterMain();
  });
  $('owner-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/api/mailbox/login', { address: $('owner-address').value.trim(), password: $('owner-password').value });
    if (!r.ok) return say(ev.target, false, r.data.error || 'Login failed.');
    $('owner-password').value = '';
    openBox(r.data.mailbox.address, r.data.mailbox.csrf);
  });
  $('box-close').addEventListener('click', async () => {
    const b = state.box;
    state.box = null;
    $('box-view').hidden = true;
    if (b && b.owner) { await api('POST', '/api/mailbox/logout', {}, b.token); showLogin(); }
  });
  $('box-more').addEventListener('click', loadBox);
  $('box-delete').addEventListener('click', () => deleteMessages([...state.box.uids]));
  $('box-all').addEventListener('change', (ev) => {
    for (const input of $('box-list').querySelectorAll('input[type=checkbox]')) {
      input.checked = ev.target.checked;
      input.dispatchEvent(new Event('change'));
    }
  });
  $('restart-now').addEventListener('click', async () => {
    if (!confirm('Restart postern now? Open connections are closed; mail programs reconnect.')) return;
    const r = await api('POST', '/api/restart', {});
    $('restart-text').textContent = r.ok ? 'Restarting…' : (r.data.error || 'The restart was refused.');
    if (!r.ok) return;
    clearInterval(state.timer);
    // Back when the page answers again (its supervisor starts postern); the session ended with it.
    const poll = async () => { try { if ((await fetch('/api/session')).ok) return location.reload(); } catch (e) { /* still down */ } setTimeout(poll, 1000); };
    setTimeout(poll, 1000);
  });
  $('logout').addEventListener('click', async () => {
    await api('POST', '/api/logout', {});
    state.csrf = '';
    showLogin();
  });
  $('domain-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('domain-name').value.trim();
    if (await change('/api/domains', { action: 'add', name }, ev.target, 'Domain ' + name + ' added.')) $('domain-name').value = '';
  });
  $('user-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const address = $('user-address').value.trim();
    if (await change('/api/users', { action: 'add', address, password: $('user-password').value }, ev.target, 'User ' + address + ' added.')) {
      $('user-address').value = '';
      $('user-password').value = '';
    }
  });
  $('trace-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    if (state.tracing) return say(form, false, 'A trace is running; wait for it to finish.');
    const r = await api('POST', '/api/trace', { host: $('trace-host').value.trim() });
    if (!r.ok) return say(form, false, r.data.error || 'The trace did not start (HTTP ' + r.status + ').');
    state.tracing = true;
    $('trace-hops').tBodies[0].replaceChildren();
    pollTrace(r.data.id, form);
  });
  $('cert-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/api/certificate', { cert: $('cert-pem').value, key: $('key-pem').value });
    say(ev.target, r.ok, r.ok ? 'Installed. Restart postern to serve the new certificate.' : (r.data.error || 'Installing failed.'));
  });
}

wire();
start();
