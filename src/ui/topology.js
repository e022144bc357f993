// Draws the topology as the vSphere client draws a switch: hosts and their PIFs (NICs, bonds with
// their members, VLANs) on the left, networks in the middle, VMs and their VIFs on the right, a
// line from each PIF and VIF to its network. Every drawn object carries data-class and data-ref,
// and is drawn once: a pool shows every host.

const NS = 'http://www.w3.org/2000/svg';
const ROW = 26;
const COL = {host: 20, net: 430, vm: 800};
const WIDTH = {host: 300, net: 250, vm: 300};

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function text(parent, x, y, s, cls) {
  const t = el('text', {x, y, class: cls || ''}, parent);
  t.textContent = s;
  return t;
}

function name(rec, fallback) {
  return (rec && rec.name_label) || fallback || '';
}

export function formatRate(bytesPerS) {
  const bits = bytesPerS * 8;
  if (bits >= 1e9) return (bits / 1e9).toFixed(1) + ' Gb/s';
  if (bits >= 1e6) return (bits / 1e6).toFixed(1) + ' Mb/s';
  if (bits >= 1e3) return (bits / 1e3).toFixed(1) + ' kb/s';
  return bits.toFixed(0) + ' b/s';
}

// One row: a clickable object.
function row(g, cls, ref, x, y, w, label, sub, selected, status) {
  const r = el('g', {'data-class': cls, 'data-ref': ref, class: 'obj ' + cls.toLowerCase() +
    (selected === ref ? ' selected' : ''), tabindex: 0}, g);
  el('rect', {x, y, width: w, height: ROW - 4, rx: 4}, r);
  if (status !== undefined) el('circle', {cx: x + 10, cy: y + (ROW - 4) / 2, r: 4, class: status ? 'up' : 'down'}, r);
  // What fits beside the right-hand text (about 7 px a character at 12 px); the whole in a title.
  const room = Math.max(6, Math.floor((w - 30 - (sub ? sub.length * 6.2 : 0)) / 6.8));
  text(r, x + 20, y + 15, label.length > room ? label.slice(0, room - 1) + '…' : label, 'label');
  if (sub) text(r, x + w - 6, y + 15, sub, 'sub');
  el('title', {}, r).textContent = label + (sub ? ' — ' + sub : '');
  return r;
}

// `stats`: the connected host's host.get_network_stats (null before the first), `rates`: per
// object ref {rx, tx} bytes/s.
export function drawTopology(svg, model, {selected, rates, onSelect}) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const lines = el('g', {class: 'lines'}, svg);
  const body = el('g', {}, svg);
  const anchor = new Map();  // ref -> {x, y} where its line starts or ends
  const rateText = (ref) => {
    const r = rates && rates.get(ref);
    return r ? '↓' + formatRate(r.rx) + ' ↑' + formatRate(r.tx) : '';
  };

  text(body, COL.host, 18, 'Hosts and physical interfaces', 'heading');
  text(body, COL.net, 18, 'Networks', 'heading');
  text(body, COL.vm, 18, 'VMs and virtual interfaces', 'heading');

  // Left: per host, its PIFs: NICs, bonds (master then members), VLANs.
  let y = 34;
  const pifs = model.all('pif');
  const hosts = model.all('host').sort((a, b) => name(a[1]).localeCompare(name(b[1])));
  for (const [href, host] of hosts) {
    const mine = pifs.filter(([, p]) => p.host === href);
    const top = y;
    const box = el('g', {'data-class': 'host', 'data-ref': href, class: 'obj hostbox' +
      (selected === href ? ' selected' : '')}, body);
    const h = 28 + ROW * Math.max(1, mine.length) + 6;
    el('rect', {x: COL.host, y: top, width: WIDTH.host, height: h, rx: 6}, box);
    text(box, COL.host + 10, top + 19, name(host, href) + (host.address ? '  ' + host.address : ''), 'title');
    y = top + 28;
    const order = [];
    const bondOf = new Map(model.all('bond').map(([bref, b]) => [b.master, [bref, b]]));
    const isVlan = (p) => Number(p.VLAN) >= 0;
    const members = new Set(model.all('bond').flatMap(([, b]) => b.slaves || []));
    for (const [ref, p] of mine.filter(([r, p]) => !isVlan(p) && !members.has(r) && !bondOf.has(r))
      .sort((a, b) => a[1].device.localeCompare(b[1].device))) order.push([ref, p, 0]);
    for (const [ref, p] of mine.filter(([r]) => bondOf.has(r))) {
      order.push([ref, p, 0]);
      for (const s of bondOf.get(ref)[1].slaves || []) {
        const sp = model.get('pif', s);
        if (sp) order.push([s, sp, 1]);
      }
    }
    for (const [ref, p] of mine.filter(([r, p]) => isVlan(p) && !order.some(([o]) => o === r))
      .sort((a, b) => Number(a[1].VLAN) - Number(b[1].VLAN))) order.push([ref, p, 0]);
    for (const [ref, p] of mine) if (!order.some(([o]) => o === ref)) order.push([ref, p, 0]);
    for (const [ref, p, indent] of order) {
      let label = p.device;
      if (isVlan(p)) label += ' VLAN ' + p.VLAN;
      if ((p.sriov_logical_PIF_of || []).length) label += ' SR-IOV VFs';
      const bond = bondOf.get(ref);
      if (bond) {
        const b = bond[1];
        label = 'bond ' + p.device + ' (' + b.mode + ')';
        const st = b.status || {};
        if (st['active-member']) label += ' active ' + st['active-member'];
        if (b.mode === 'lacp') label += st['lacp-negotiated'] === 'true' ? ' LACP up' : ' LACP down';
      }
      if (p.management) label += ' ★';
      const x = COL.host + 8 + indent * 18;
      row(body, 'PIF', ref, x, y, WIDTH.host - 16 - indent * 18, label, rateText(ref), selected,
        p.currently_attached);
      if (p.network && p.network !== 'OpaqueRef:NULL' && !indent)
        anchor.set(ref, {x: x + WIDTH.host - 16 - indent * 18, y: y + ROW / 2 - 2, to: p.network});
      y += ROW;
    }
    if (!mine.length) y += ROW;
    y = top + h + 12;
  }
  const leftBottom = y;

  // Middle: every network, once.
  y = 34;
  const netY = new Map();
  const tunnels = new Map(model.all('tunnel').map(([, t]) => [t.access_PIF, t]));
  const nets = model.all('network').sort((a, b) => name(a[1]).localeCompare(name(b[1])));
  for (const [ref, n] of nets) {
    const vlanPif = pifs.find(([, p]) => p.network === ref && Number(p.VLAN) >= 0);
    const tunnelPif = pifs.find(([r, p]) => p.network === ref && tunnels.has(r));
    let sub = n.bridge || '';
    if (vlanPif) sub = 'VLAN ' + vlanPif[1].VLAN + ' · ' + sub;
    if (tunnelPif) sub = 'tunnel · ' + sub;
    if (pifs.some(([, p]) => p.network === ref && (p.sriov_logical_PIF_of || []).length)) sub = 'SR-IOV · ' + sub;
    row(body, 'network', ref, COL.net, y, WIDTH.net, name(n, ref), sub, selected);
    netY.set(ref, y + ROW / 2 - 2);
    y += ROW + 6;
  }
  const midBottom = y;

  // Right: VMs with their VIFs (the control domain only when it has VIFs).
  y = 34;
  const vifs = model.all('vif');
  const vms = model.all('vm').filter(([ref, vm]) => !vm.is_control_domain ||
    vifs.some(([, v]) => v.VM === ref)).sort((a, b) => name(a[1]).localeCompare(name(b[1])));
  const drawn = new Set();
  for (const [ref, vm] of vms) {
    const mine = vifs.filter(([, v]) => v.VM === ref).sort((a, b) => Number(a[1].device) - Number(b[1].device));
    const top = y;
    const h = 28 + ROW * Math.max(1, mine.length) + 6;
    const box = el('g', {'data-class': 'VM', 'data-ref': ref, class: 'obj vmbox' +
      (selected === ref ? ' selected' : '')}, body);
    el('rect', {x: COL.vm, y: top, width: WIDTH.vm, height: h, rx: 6}, box);
    const where = model.get('host', vm.resident_on);
    text(box, COL.vm + 10, top + 19, name(vm, ref) + (where ? ' on ' + name(where) : ''), 'title');
    y = top + 28;
    for (const [vref, v] of mine) {
      drawn.add(vref);
      row(body, 'VIF', vref, COL.vm + 8, y, WIDTH.vm - 16, 'VIF ' + v.device + ' · ' + v.MAC + (Number(v.sriov_VF) >= 0 ? ' · VF ' + v.sriov_VF : ''),
        rateText(vref), selected, v.currently_attached);
      anchor.set(vref, {x: COL.vm + 8, y: y + ROW / 2 - 2, to: v.network, right: true});
      y += ROW;
    }
    if (!mine.length) y += ROW;
    y = top + h + 12;
  }
  for (const [vref, v] of vifs) {  // a VIF of a VM not in the store (never, but drawn anyway)
    if (drawn.has(vref)) continue;
    row(body, 'VIF', vref, COL.vm + 8, y, WIDTH.vm - 16, 'VIF ' + v.device + ' · ' + v.MAC + (Number(v.sriov_VF) >= 0 ? ' · VF ' + v.sriov_VF : ''), '', selected,
      v.currently_attached);
    y += ROW;
  }
  const rightBottom = y;

  for (const [ref, a] of anchor) {
    const ny = netY.get(a.to);
    if (ny === undefined) continue;
    const nx = a.right ? COL.net + WIDTH.net : COL.net;
    const mx = (a.x + nx) / 2;
    el('path', {d: `M${a.x},${a.y} C${mx},${a.y} ${mx},${ny} ${nx},${ny}`, class: 'link',
      'data-from': ref, 'data-to': a.to}, lines);
  }

  const height = Math.max(leftBottom, midBottom, rightBottom) + 20;
  const width = COL.vm + WIDTH.vm + 20;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.style.maxWidth = width + 'px';
  svg.onclick = (e) => {
    const g = e.target.closest('[data-ref]');
    if (g) onSelect(g.getAttribute('data-class'), g.getAttribute('data-ref'));
  };
}

// A small line graph of the last samples (numbers), as an SVG element.
export function sparkline(values, w = 260, h = 40, cls = 'spark') {
  const svg = el('svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: cls});
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i * w) / Math.max(1, values.length - 1)},${h - 2 - (v / max) * (h - 4)}`);
  el('polyline', {points: pts.join(' ')}, svg);
  return svg;
}
