// The fleet view: one tile per server, coloured by its current state (the
// alerts of its latest windows), with a cpu sparkline. Tiles are re-sorted
// at most once a second so they do not jump under the pointer.
import { COLORS, el, fmt, kindOf, naturalCompare, severity, shortAlert, sparkline } from './util.js';

const SPARK_POINTS = 60;

export class Fleet {
  constructor(root, sortSelect, onSelect) {
    this.root = root;
    this.sortSelect = sortSelect;
    this.onSelect = onSelect;
    this.servers = new Map();
    this.selected = null;
    this.thresholds = {};
    this.dirty = new Set();
    this.orderDirty = true;
    this.frame = 0;
    this.lastSort = 0;
    sortSelect.addEventListener('change', () => {
      this.orderDirty = true;
      this.lastSort = 0;
      this.schedule();
    });
  }

  load(snapshot) {
    this.thresholds = snapshot.thresholds ?? {};
    this.servers.clear();
    this.root.replaceChildren();
    for (const s of snapshot.servers) {
      const server = this.ensure(s.id);
      server.latest = { ...s.latest };
      server.spark = s.spark.slice(-SPARK_POINTS);
      server.jobs = { ...s.state.jobs };
      this.dirty.add(s.id);
    }
    this.orderDirty = true;
    this.schedule();
  }

  ensure(id) {
    let server = this.servers.get(id);
    if (server) return server;
    const tile = el('button', 'tile kind-normal');
    tile.type = 'button';
    tile.dataset.server = id;
    const name = el('span', 'tile-name', id);
    const state = el('span', 'tile-state', 'normal');
    const values = el('span', 'tile-values', '');
    const canvas = el('canvas');
    tile.append(name, state, values, canvas);
    tile.addEventListener('click', () => this.onSelect(id));
    server = { id, latest: {}, spark: [], jobs: {}, silent: false, tile, state, values, canvas, kind: 'normal' };
    this.servers.set(id, server);
    this.root.querySelector('.empty')?.remove();
    this.root.append(tile);
    this.orderDirty = true;
    return server;
  }

  metric(id, t, fields) {
    const server = this.ensure(id);
    if (server.latest.t === undefined || t >= server.latest.t) {
      Object.assign(server.latest, fields, { t });
      if (fields.cpu !== undefined) {
        server.spark.push(fields.cpu);
        if (server.spark.length > SPARK_POINTS) server.spark.shift();
      }
    }
    this.dirty.add(id);
    this.schedule();
  }

  window(job, row) {
    const server = this.ensure(row.server);
    const current = server.jobs[job];
    if (!current || row.end >= current.end) server.jobs[job] = { alert: row.alert, end: row.end, values: row.values };
    this.dirty.add(row.server);
    this.orderDirty = true;
    this.schedule();
  }

  select(id) {
    this.selected = id;
    for (const server of this.servers.values()) server.tile.classList.toggle('selected', server.id === id);
  }

  /** A server that stopped reporting has no new windows: an open 'Server silent' incident marks it. */
  setSilent(id, silent) {
    const server = this.servers.get(id);
    if (!server || server.silent === silent) return;
    server.silent = silent;
    this.dirty.add(id);
    this.orderDirty = true;
    this.schedule();
  }

  /** The alerts a server shows now, most severe first. */
  alertsOf(server) {
    const alerts = Object.values(server.jobs).map((j) => j.alert).filter(Boolean);
    if (server.silent) alerts.push('Server silent');
    return alerts.sort((a, b) => severity(kindOf(b)) - severity(kindOf(a)));
  }

  alertingCount() {
    let n = 0;
    for (const server of this.servers.values()) if (this.alertsOf(server).length > 0) n++;
    return n;
  }

  /** The server to show first: the worst alerting one, else the first by name. */
  firstChoice() {
    const all = [...this.servers.values()];
    if (all.length === 0) return null;
    all.sort((a, b) => severity(b.kind) - severity(a.kind) || naturalCompare(a.id, b.id));
    return all[0].id;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    for (const id of this.dirty) {
      const server = this.servers.get(id);
      if (!server) continue;
      const alerts = this.alertsOf(server);
      const kind = alerts.length ? kindOf(alerts[0]) : 'normal';
      server.kind = kind;
      server.tile.className = `tile kind-${kind}${alerts.length ? ' alerting' : ''}${id === this.selected ? ' selected' : ''}`;
      server.state.textContent = alerts.length ? alerts.map(shortAlert).join(' · ') : 'normal';
      server.tile.title = alerts.length ? `${id}: ${alerts.join(', ')}` : `${id}: normal`;
      const l = server.latest;
      server.values.textContent = `cpu ${fmt(l.cpu)}%  ·  mem ${fmt(l.mem)}%`;
      server.values.title = `net_in ${fmt(l.net_in, 0)}, disk_io ${fmt(l.disk_io, 0)}`;
      sparkline(server.canvas, server.spark, alerts.length ? COLORS[kind] : '#38bdf8', this.thresholds.cpu);
    }
    this.dirty.clear();
    const now = performance.now();
    if (this.orderDirty && now - this.lastSort > 1000) {
      this.orderDirty = false;
      this.lastSort = now;
      this.sort();
    } else if (this.orderDirty) {
      setTimeout(() => this.schedule(), 1000);
    }
  }

  sort() {
    const by = this.sortSelect.value;
    const all = [...this.servers.values()];
    const compare = {
      name: (a, b) => naturalCompare(a.id, b.id),
      state: (a, b) => severity(b.kind) - severity(a.kind) || naturalCompare(a.id, b.id),
      cpu: (a, b) => (b.latest.cpu ?? -1) - (a.latest.cpu ?? -1) || naturalCompare(a.id, b.id),
      mem: (a, b) => (b.latest.mem ?? -1) - (a.latest.mem ?? -1) || naturalCompare(a.id, b.id),
    }[by] ?? ((a, b) => naturalCompare(a.id, b.id));
    all.sort(compare);
    const current = [...this.root.children];
    if (all.every((s, i) => current[i] === s.tile)) return;
    this.root.append(...all.map((s) => s.tile));
  }
}
