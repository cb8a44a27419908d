// The side panels: the incident feed, the NGINX goals, pipeline health and
// the log explorer. Each keeps its own small state and re-renders at most
// once per animation frame.
import { COLORS, el, fmt, fmtDuration, fmtInstant, fmtRate, kindOf, sparkline } from './util.js';

function frameScheduler(render) {
  let frame = 0;
  return () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  };
}

export class Incidents {
  constructor(list, counts, onSelect) {
    this.list = list;
    this.counts = counts;
    this.onSelect = onSelect;
    this.byId = new Map();
    this.fresh = new Set();
    this.schedule = frameScheduler(() => this.render());
  }

  load(incidents) {
    this.byId.clear();
    for (const incident of incidents) this.byId.set(incident.id, incident);
    this.schedule();
  }

  update(incident) {
    if (!this.byId.has(incident.id) || incident.state === 'opened') this.fresh.add(incident.id);
    this.byId.set(incident.id, incident);
    // Bounded like the server's list.
    if (this.byId.size > 400) {
      const closed = [...this.byId.values()].filter((i) => i.state === 'closed').sort((a, b) => a.end - b.end);
      for (const old of closed.slice(0, this.byId.size - 400)) this.byId.delete(old.id);
    }
    this.schedule();
  }

  openCount() {
    let n = 0;
    for (const i of this.byId.values()) if (i.state !== 'closed') n++;
    return n;
  }

  forKey(key) {
    return [...this.byId.values()].filter((i) => i.key === key);
  }

  render() {
    const all = [...this.byId.values()];
    // Open first (newest first), then closed by when they ended.
    all.sort((a, b) => (a.state === 'closed') - (b.state === 'closed') || b.end - a.end || b.start - a.start);
    const open = all.filter((i) => i.state !== 'closed').length;
    this.counts.textContent = all.length ? `${open} open · ${all.length - open} closed` : 'none yet';
    const items = all.slice(0, 200).map((i) => {
      const kind = kindOf(i.alert);
      const item = el('li', `incident kind-${kind}${i.state !== 'closed' ? ' open' : ''}${this.fresh.has(i.id) ? ' fresh' : ''}`);
      item.dataset.id = i.id;
      item.dataset.state = i.state;
      item.style.setProperty('--kind', COLORS[kind]);
      const title = el('div', 'incident-title');
      title.append(el('span', 'incident-key', i.key), document.createTextNode(`  ${i.alert}`));
      item.append(el('span', 'incident-dot'), title, el('span', 'incident-badge', i.state === 'closed' ? 'closed' : 'open'));
      // A silence has no windows or peak: say since when the server has been quiet.
      const meta = i.alert === 'Server silent'
        ? `${i.detector} · no data since ${fmtInstant(i.start, i.timeKind)} · ${fmtDuration(i.end - i.start)}${i.state === 'closed' ? ' · reporting again' : ''}`
        : `${i.detector} · ${fmtInstant(i.start, i.timeKind)} → ${fmtInstant(i.end, i.timeKind)} · ${fmtDuration(i.end - i.start)} · ${i.windows} win · peak ${fmt(i.peak, i.peak % 1 === 0 ? 0 : 2)}`;
      item.append(el('div', 'incident-meta', meta));
      item.addEventListener('click', () => this.onSelect(i.key, i.detector));
      return item;
    });
    this.fresh.clear();
    this.list.replaceChildren(...items);
    if (items.length === 0) this.list.append(el('li', 'empty', 'No incidents. All windows are within thresholds.'));
  }
}

const GOAL_ALERTS = { 'ip-burst': 10, 'host-4xx': 15 };
const GOAL_DIGITS = { 'host-latency': 3 };

export class Goals {
  constructor(root) {
    this.root = root;
    this.boards = new Map();
    this.schedule = frameScheduler(() => this.render());
  }

  load(goals) {
    this.boards.clear();
    for (const [detector, rows] of Object.entries(goals)) {
      const board = new Map();
      for (const row of rows) board.set(row.key, row);
      this.boards.set(detector, board);
    }
    this.schedule();
  }

  update(detector, row) {
    let board = this.boards.get(detector);
    if (!board) {
      board = new Map();
      this.boards.set(detector, board);
    }
    const peak = detector in GOAL_ALERTS;
    const current = board.get(row.key);
    if (!current || row.start > current.end + 60000) board.set(row.key, { ...row });
    else if (peak) board.set(row.key, { ...current, value: Math.max(current.value, row.value), end: Math.max(current.end, row.end) });
    else if (row.end >= current.end) board.set(row.key, { ...row });
    // Forget keys whose windows are over a minute behind the newest.
    const newest = Math.max(...[...board.values()].map((r) => r.end));
    for (const [key, r] of board) if (r.end < newest - 60000) board.delete(key);
    this.schedule();
  }

  render() {
    for (const list of this.root.querySelectorAll('ol.bars')) {
      const detector = list.id.replace(/^goal-/, '');
      const rows = [...(this.boards.get(detector)?.values() ?? [])].sort((a, b) => b.value - a.value || a.key.localeCompare(b.key)).slice(0, 8);
      const max = Math.max(...rows.map((r) => r.value), GOAL_ALERTS[detector] ?? 0, 1e-9);
      const items = rows.map((r) => {
        const item = el('li', `bar${GOAL_ALERTS[detector] !== undefined && r.value > GOAL_ALERTS[detector] ? ' hot' : ''}`);
        const fill = el('span', 'bar-fill');
        fill.style.width = `${Math.max(2, (r.value / max) * 100)}%`;
        item.append(fill, el('span', 'bar-key', r.key), el('span', 'bar-value', fmt(r.value, GOAL_DIGITS[detector] ?? 0)));
        item.title = `${r.key}: ${r.value} (${fmtInstant(r.start)} → ${fmtInstant(r.end)})`;
        return item;
      });
      if (items.length === 0) items.push(el('li', 'empty', 'no windows yet'));
      list.replaceChildren(...items);
    }
  }
}

export class Health {
  constructor(root) {
    this.root = root;
    this.latest = null;
    this.history = [];
    this.schedule = frameScheduler(() => this.render());
  }

  load(health, history) {
    this.latest = health;
    this.history = history.slice(-120);
    this.schedule();
  }

  update(health) {
    this.latest = health;
    this.history.push({ at: health.at, inPerSec: health.topics.reduce((s, t) => s + t.inPerSec, 0) });
    if (this.history.length > 120) this.history.shift();
    this.schedule();
  }

  rate() {
    return this.latest ? this.latest.topics.reduce((s, t) => s + t.inPerSec, 0) : 0;
  }

  render() {
    const h = this.latest;
    const q = (sel) => this.root.querySelector(sel);
    q('#health-rate').textContent = fmtRate(this.rate());
    q('#health-late').textContent = h ? String(h.late) : '0';
    q('#health-rejected').textContent = h ? String(h.rejected) : '0';
    q('#health-late').classList.toggle('warn', !!h && h.late > 0);
    q('#health-rejected').classList.toggle('warn', !!h && h.rejected > 0);
    q('#health-age').textContent = h ? `updated ${new Date(h.at).toISOString().slice(11, 19)} UTC` : 'no pipeline connected';
    const spark = q('#health-spark');
    // One reading draws no line: leave no empty band either.
    spark.hidden = this.history.length < 2;
    if (!spark.hidden) sparkline(spark, this.history.map((p) => p.inPerSec), '#38bdf8');
    const topics = h ? [...h.topics].sort((a, b) => a.topic.localeCompare(b.topic)) : [];
    q('#health-topics tbody').replaceChildren(...topics.map((t) => row([t.topic, fmtRate(t.inPerSec), t.outPerSec === undefined ? '–' : fmtRate(t.outPerSec)], [1, 2])));
    const lag = h ? [...h.lag].sort((a, b) => b.lag - a.lag).slice(0, 8) : [];
    q('#health-lag tbody').replaceChildren(...(lag.length ? lag.map((l) => row([l.group, `${l.topic}:${l.partition}`, String(l.lag)], [2])) : [row(['no consumer lag reported', '', ''])]));
  }
}

function row(cells, numeric = []) {
  const tr = el('tr');
  cells.forEach((text, i) => tr.append(el('td', numeric.includes(i) ? 'num' : '', text)));
  return tr;
}

export class LogExplorer {
  constructor(root, request) {
    this.root = root;
    this.request = request;
    this.form = root.querySelector('#logs-form');
    this.input = root.querySelector('#logs-query');
    this.button = this.form.querySelector('button');
    this.results = root.querySelector('#logs-results');
    this.status = root.querySelector('#logs-status');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.search(this.input.value);
    });
  }

  setConnected(connected) {
    this.connected = connected;
    this.input.disabled = !connected;
    this.button.disabled = !connected;
    if (!connected) {
      this.status.textContent = '';
      this.results.replaceChildren(el('div', 'notice', 'storage not connected: start the pipeline with a database to search the stored NGINX events'));
    } else if (!this.results.querySelector('table')) {
      this.results.replaceChildren(el('div', 'notice', 'type a query and press Enter'));
    }
  }

  async search(q) {
    this.status.textContent = 'searching…';
    const started = performance.now();
    const response = await this.request(`/api/search?q=${encodeURIComponent(q)}&limit=200`);
    const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) {
      this.status.textContent = '';
      if (response.status === 503) this.setConnected(false);
      else this.results.replaceChildren(el('div', 'notice', body.error ?? `HTTP ${response.status}`));
      return;
    }
    const table = el('table', 'table');
    const head = el('tr');
    for (const c of body.columns) head.append(el('th', '', c));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    for (const r of body.rows) {
      const tr = el('tr');
      for (const cell of r) tr.append(el('td', typeof cell === 'number' ? 'num' : '', cell === null ? '' : String(cell)));
      table.tBodies[0].append(tr);
    }
    this.results.replaceChildren(body.rows.length ? table : el('div', 'notice', 'no matching events'));
    const total = body.total !== undefined ? ` of ${body.total}` : '';
    this.status.textContent = `${body.rows.length}${total} events · ${Math.round(performance.now() - started)} ms`;
  }
}
