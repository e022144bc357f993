// The hvnet console: logs in over JSON-RPC (RBAC applies as for any client), keeps the objects
// current with event.from, draws them, and reads the switch's counters, drops and traces of the
// host it is served by. Actions ask for confirmation and show XenAPI errors with their parameters.
import {Rpc, XenApiError} from './rpc.js';
import {Model} from './model.js';
import {drawTopology, sparkline, formatRate} from './topology.js';

const $ = (sel) => document.querySelector(sel);
const rpc = new Rpc();
let model = null;
let thisHost = null;
let selected = null;  // {cls, ref}
let view = 'topology';
let stats = null;  // the last host.get_network_stats
const history = new Map();  // object ref -> [{t, rx, tx}] (bytes/s), the last 5 minutes
const HISTORY = 150;
const STATS_EVERY_MS = 2000;
let statsTimer = null;
let drawPending = false;

// For tests and benchmarks: when the topology was last drawn, and the calls made.
// loginAt/drawnAt: performance.now() of the last login and draw; drawMs: how long that draw took.
window.hvnetConsole = {loginAt: null, drawnAt: null, drawMs: null, draws: 0, rpc};

function errorText(e) {
  if (e instanceof XenApiError) return e.code + (e.params.length ? ': ' + e.params.join(', ') : '');
  return String(e && e.message ? e.message : e);
}

function showError(e) {
  const b = $('#error');
  b.textContent = errorText(e);
  b.hidden = false;
}

function clearError() {
  $('#error').hidden = true;
}

// ---- login ----

$('#login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  $('#login-button').disabled = true;
  window.hvnetConsole.loginAt = performance.now();
  try {
    await rpc.login($('#login-user').value, $('#login-password').value);
    $('#login-password').value = '';
    await enter($('#login-user').value);
  } catch (e) {
    $('#login-error').textContent = errorText(e);
    rpc.session = null;
  } finally {
    $('#login-button').disabled = false;
  }
});

$('#logout').addEventListener('click', async () => {
  leave();
  await rpc.logout();
});

async function enter(user) {
  thisHost = await rpc.call('session.get_this_host', rpc.session);
  model = new Model(rpc);
  model.addEventListener('change', scheduleDraw);
  model.addEventListener('lost', () => {
    leave();
    $('#login-error').textContent = 'The session ended: log in again.';
  });
  model.addEventListener('trouble', (e) => showError(e.detail));
  $('#whoami').textContent = user;
  $('#login').hidden = true;
  $('#main').hidden = false;
  await model.start();
  refreshStats();
  statsTimer = setInterval(refreshStats, STATS_EVERY_MS);
}

function leave() {
  if (model) model.stop();
  model = null;
  clearInterval(statsTimer);
  statsTimer = null;
  stats = null;
  history.clear();
  selected = null;
  $('#details').hidden = true;
  $('#main').hidden = true;
  $('#login').hidden = false;
}

// ---- views ----

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => {
    view = tab.dataset.view;
    for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab);
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
    refreshStats();
  });
}

function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function draw() {
  if (!model) return;
  const pool = model.all('pool')[0];
  $('#pool-name').textContent = pool ? pool[1].name_label || '' : '';
  const rates = new Map();
  for (const [ref, h] of history) if (h.length) rates.set(ref, h[h.length - 1]);
  const t0 = performance.now();
  drawTopology($('#topology'), model, {
    selected: selected && selected.ref,
    rates,
    onSelect: (cls, ref) => select(cls, ref),
  });
  window.hvnetConsole.drawnAt = performance.now();
  window.hvnetConsole.drawMs = window.hvnetConsole.drawnAt - t0;
  window.hvnetConsole.draws++;
  document.body.dataset.drawn = String(window.hvnetConsole.draws);
  if (selected) showDetails();
}

// ---- counters ----

async function refreshStats() {
  if (!model || document.hidden) return;
  try {
    stats = await rpc.call('host.get_network_stats', thisHost);
  } catch (e) {
    showError(e);
    return;
  }
  const now = Date.now();
  for (const p of stats.ports) {
    const key = p.object !== 'OpaqueRef:NULL' ? p.object : p.name;
    // A network's internal port and its tunnel share the network: the internal port counts.
    if (p.object_class === 'network' && p.type !== 'internal') continue;
    const h = history.get(key) || [];
    h.push({t: now, rx: p.rx_bytes_per_s || 0, tx: p.tx_bytes_per_s || 0, port: p});
    if (h.length > HISTORY) h.shift();
    history.set(key, h);
  }
  if (view === 'drops') await refreshDrops();
  if (view === 'trace') fillTracePorts();
  if (view === 'topology') scheduleDraw();
  else if (selected) showDetails();  // the panel stays live on every view
}

function portOf(ref) {
  const h = history.get(ref);
  return h && h.length ? h[h.length - 1].port : null;
}

// ---- details ----

function select(cls, ref) {
  selected = {cls: cls.toLowerCase(), ref};
  $('#details').hidden = false;
  scheduleDraw();
}

$('#details-close').addEventListener('click', () => {
  selected = null;
  $('#details').hidden = true;
  scheduleDraw();
});

function nameOf(ref) {
  if (!model || typeof ref !== 'string' || !ref.startsWith('OpaqueRef:')) return null;
  const cls = model.classOf(ref);
  if (!cls) return null;
  const r = model.get(cls, ref);
  return r.name_label || r.device || r.MAC || r.uuid;
}

function valueText(v) {
  if (Array.isArray(v)) return v.map((x) => nameOf(x) || JSON.stringify(x)).join(', ');
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => k + ': ' + (typeof x === 'object' ? JSON.stringify(x) : x)).join('; ');
  return nameOf(v) || String(v);
}

function showDetails() {
  const {cls, ref} = selected;
  const rec = model.get(cls, ref);
  if (!rec) {
    $('#details').hidden = true;
    selected = null;
    return;
  }
  $('#details-title').textContent = cls.toUpperCase() === 'VM' ? 'VM ' + rec.name_label :
    cls + ' ' + (rec.name_label || rec.device || rec.MAC || rec.uuid);
  const tbody = $('#details-record tbody');
  tbody.replaceChildren();
  for (const k of Object.keys(rec).sort()) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = k;
    const td = document.createElement('td');
    td.textContent = valueText(rec[k]);
    tr.append(th, td);
    tbody.append(tr);
  }
  showCounters(cls, ref, rec);
  showActions(cls, ref, rec);
}

function counterTable(rows, id) {
  const t = document.createElement('table');
  t.className = 'grid counters';
  if (id) t.id = id;
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = k;
    const td = document.createElement('td');
    td.textContent = v;
    td.dataset.counter = k;
    tr.append(th, td);
    t.append(tr);
  }
  return t;
}

// Built aside and swapped in whole, and only by the latest call: a redraw during its calls
// neither doubles nor mixes the tables.
let countersGen = 0;
async function showCounters(cls, ref, rec) {
  const gen = ++countersGen;
  const box = document.createElement('div');
  await fillCounters(box, cls, ref, rec);
  if (gen === countersGen) $('#details-counters').replaceChildren(...box.childNodes);
}

async function fillCounters(box, cls, ref, rec) {
  if (cls === 'host' && stats && ref === thisHost) {
    const rows = Object.entries(stats.drops).filter(([, n]) => n > 0).map(([k, n]) => ['drops ' + k, n]);
    box.append(counterTable([['forwarded', stats.forwarded], ['flooded', stats.flooded],
      ['MAC table entries', stats.mac_entries], ...rows], 'host-counters'));
    return;
  }
  const p = portOf(ref);
  if (!p) {
    const where = rec.host || rec.resident_on;
    const p2 = document.createElement('p');
    p2.className = 'note';
    p2.textContent = where && where !== thisHost ? 'Counters: kept by ' + (nameOf(where) || 'its host') +
      ' (open that host\'s console).' : 'No switch port.';
    if (cls !== 'network') box.append(p2);
  } else {
    const h = history.get(ref);
    box.append(counterTable([
      ['port', p.name + ' (' + p.backend + ')'],
      ['rx packets', p.rx_packets], ['rx bytes', p.rx_bytes], ['rx rate', formatRate(p.rx_bytes_per_s || 0)],
      ['tx packets', p.tx_packets], ['tx bytes', p.tx_bytes], ['tx rate', formatRate(p.tx_bytes_per_s || 0)],
      ['rx dropped', p.rx_dropped], ['tx errors', p.tx_errors],
      ['QoS limit', p.qos_kbps ? p.qos_kbps + ' KiB/s' : 'none'],
    ], 'port-counters'));
    const g = document.createElement('div');
    g.className = 'graphs';
    const rx = document.createElement('figure');
    rx.append(sparkline(h.map((s) => s.rx)));
    const cap1 = document.createElement('figcaption');
    cap1.textContent = 'received, last ' + Math.round((h.length * STATS_EVERY_MS) / 1000) + ' s';
    rx.append(cap1);
    const tx = document.createElement('figure');
    tx.append(sparkline(h.map((s) => s.tx), 260, 40, 'spark tx'));
    const cap2 = document.createElement('figcaption');
    cap2.textContent = 'sent';
    tx.append(cap2);
    g.append(rx, tx);
    box.append(g);
    // The last frames this port dropped, newest first.
    try {
      const mine = (await rpc.call('host.get_drop_trace', thisHost)).filter((x) => x.port === p.name);
      if (mine.length) {
        const t = counterTable(mine.slice(-10).reverse().map((x) => [x.reason,
          x.src + ' > ' + x.dst + ' ' + x.ethertype + (x.vlan >= 0 ? ' VLAN ' + x.vlan : '')]), 'port-drops');
        const cap = document.createElement('caption');
        cap.textContent = 'Last drops on this port';
        t.prepend(cap);
        box.append(t);
      }
    } catch (e) {
      showError(e);
    }
    if (p.status && p.status.members) {
      box.append(counterTable(p.status.members.map((m) => [m.device,
        (m.carrier ? 'carrier' : 'no carrier') + (m.enabled ? ', carrying' : ', idle') +
        (m.lacp ? ', LACP ' + m.lacp + '/' + m.lacp_mux + ' partner ' + m.lacp_partner_system : '')]), 'bond-members'));
    }
  }
  if (cls === 'network') {
    try {
      const macs = await rpc.call('network.get_mac_table', ref);
      const t = counterTable(macs.map((m) => [m.mac, m.port + (m.vlan ? ' VLAN ' + m.vlan : '') + ', ' + m.age + ' s']), 'mac-table');
      const cap = document.createElement('caption');
      cap.textContent = 'MAC table (' + macs.length + ')';
      t.prepend(cap);
      box.append(t);
    } catch (e) {
      showError(e);
    }
  }
}

// ---- actions ----

function button(label, fn) {
  const b = document.createElement('button');
  b.textContent = label;
  b.addEventListener('click', fn);
  return b;
}

// Asks, then runs `run(values)`; an error stays in the dialog with its code and parameters.
function confirmAction(title, fields, run) {
  const d = $('#dialog');
  $('#dialog-title').textContent = title;
  $('#dialog-error').textContent = '';
  const body = $('#dialog-body');
  body.replaceChildren();
  for (const f of fields) {
    const l = document.createElement('label');
    l.textContent = f.label + ' ';
    let input;
    if (f.options) {
      input = document.createElement('select');
      for (const [v, t] of f.options) {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = t;
        input.append(o);
      }
    } else {
      input = document.createElement('input');
    }
    input.name = f.name;
    input.value = f.value || '';
    l.append(input);
    body.append(l);
  }
  const ok = $('#dialog-ok');
  const handler = async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(fields.map((f) => [f.name, body.querySelector(`[name="${f.name}"]`).value]));
    ok.disabled = true;
    try {
      await run(values);
      d.close();
      clearError();
    } catch (e) {
      $('#dialog-error').textContent = errorText(e);
    } finally {
      ok.disabled = false;
    }
  };
  ok.onclick = handler;
  $('#dialog-cancel').onclick = (ev) => {
    ev.preventDefault();
    d.close();
  };
  d.showModal();
}

$('#new-network').addEventListener('click', () => {
  confirmAction('Create a network', [
    {name: 'name_label', label: 'Name'},
    {name: 'name_description', label: 'Description'},
    {name: 'MTU', label: 'MTU', value: '1500'},
  ], (v) => rpc.call('network.create', {name_label: v.name_label, name_description: v.name_description,
    MTU: v.MTU, other_config: {}}));
});

function showActions(cls, ref, rec) {
  const box = $('#details-actions');
  box.replaceChildren();
  if (cls === 'network') {
    box.append(button('Destroy', () => confirmAction('Destroy network ' + rec.name_label + '?', [],
      () => rpc.call('network.destroy', ref))));
  }
  if (cls === 'pif') {
    box.append(button(rec.currently_attached ? 'Unplug' : 'Plug', () => confirmAction(
      (rec.currently_attached ? 'Unplug ' : 'Plug ') + rec.device + '?', [],
      () => rpc.call(rec.currently_attached ? 'PIF.unplug' : 'PIF.plug', ref))));
    if (Number(rec.VLAN) >= 0 && rec.VLAN_master_of && rec.VLAN_master_of !== 'OpaqueRef:NULL') {
      box.append(button('Destroy VLAN', () => confirmAction('Destroy VLAN ' + rec.VLAN + ' on ' + rec.device + '?', [],
        () => rpc.call('VLAN.destroy', rec.VLAN_master_of))));
    }
    if (Number(rec.VLAN) < 0) {
      const nets = model.all('network').map(([r, n]) => [r, n.name_label]);
      box.append(button('Create VLAN', () => confirmAction('Create a VLAN on ' + rec.device, [
        {name: 'tag', label: 'VLAN tag'},
        {name: 'network', label: 'Network', options: nets},
      ], (v) => rpc.call('VLAN.create', ref, v.tag, v.network))));
    }
  }
  if (cls === 'vlan') {
    box.append(button('Destroy', () => confirmAction('Destroy VLAN ' + rec.tag + '?', [],
      () => rpc.call('VLAN.destroy', ref))));
  }
  if (cls === 'vif') {
    box.append(button(rec.currently_attached ? 'Unplug' : 'Plug', () => confirmAction(
      (rec.currently_attached ? 'Unplug' : 'Plug') + ' VIF ' + rec.device + '?', [],
      () => rpc.call(rec.currently_attached ? 'VIF.unplug' : 'VIF.plug', ref))));
    box.append(button('Locking mode', () => confirmAction('Locking mode of VIF ' + rec.device, [
      {name: 'mode', label: 'Mode', value: rec.locking_mode,
        options: ['network_default', 'locked', 'unlocked', 'disabled'].map((m) => [m, m])},
    ], (v) => rpc.call('VIF.set_locking_mode', ref, v.mode))));
  }
}

// ---- drops ----

async function refreshDrops() {
  let trace;
  try {
    trace = await rpc.call('host.get_drop_trace', thisHost);
  } catch (e) {
    showError(e);
    return;
  }
  const reasons = $('#drop-reasons tbody');
  reasons.replaceChildren();
  for (const [k, n] of Object.entries(stats ? stats.drops : {})) {
    if (!n) continue;
    const tr = document.createElement('tr');
    tr.dataset.reason = k;
    for (const v of [k, n]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    reasons.append(tr);
  }
  const body = $('#drop-trace tbody');
  body.replaceChildren();
  for (const d of trace.slice().reverse()) {
    const tr = document.createElement('tr');
    tr.dataset.reason = d.reason;
    tr.dataset.port = d.port;
    for (const v of [d.seq, d.port, d.reason, d.src, d.dst, d.ethertype, d.vlan >= 0 ? d.vlan : '', d.len]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    body.append(tr);
  }
}

// ---- packet trace ----

function fillTracePorts() {
  const sel = $('#trace-port');
  if (!stats || sel.options.length === stats.ports.length) return;
  const keep = sel.value;
  sel.replaceChildren();
  for (const p of stats.ports) {
    const o = document.createElement('option');
    o.value = p.name;
    const obj = p.object !== 'OpaqueRef:NULL' ? nameOf(p.object) : null;
    o.textContent = p.name + (obj ? ' (' + p.object_class + ' ' + obj + ')' : '');
    sel.append(o);
  }
  if (keep) sel.value = keep;
}

$('#trace-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = Object.fromEntries(new FormData(ev.target).entries());
  const out = $('#trace-result');
  out.replaceChildren();
  try {
    const r = await rpc.call('host.trace_packet', thisHost, f);
    const ol = document.createElement('ol');
    ol.className = 'trace';
    for (const s of r.steps) {
      const li = document.createElement('li');
      li.dataset.stage = s.stage;
      const b = document.createElement('b');
      b.textContent = s.stage + ': ';
      li.append(b, s.detail);
      ol.append(li);
    }
    const v = document.createElement('p');
    v.id = 'trace-verdict';
    v.className = 'verdict ' + r.verdict;
    v.textContent = r.verdict + (r.drop_reason ? ' (' + r.drop_reason + ')' : '');
    out.append(ol, v);
  } catch (e) {
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = errorText(e);
    out.append(p);
  }
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refreshStats();
});
