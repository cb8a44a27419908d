// The dashboard page: loads the state from the first server-sent event,
// applies live batches, and wires the panels together. The token (when the
// dashboard requires one) comes from the page URL (?token=T) and goes with
// every request.
import { ServerCharts } from './charts.js';
import { Fleet } from './fleet.js';
import { Goals, Health, Incidents, LogExplorer } from './panels.js';
import { COLORS, el, fmtRate, kindOf, shortAlert } from './util.js';

const params = new URLSearchParams(location.search);
const token = params.get('token');
// The server has set a cookie by now; keep the token out of the address bar (screen shares, history).
if (token) history.replaceState(null, '', `${location.pathname}${location.hash}`);

function api(path) {
  return fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

const $ = (id) => document.getElementById(id);
const state = { selected: null, search: false };

const fleet = new Fleet($('tiles'), $('fleet-sort'), (id) => select(id));
const charts = new ServerCharts($('charts'));
const incidents = new Incidents($('incidents'), $('incident-counts'), (key) => {
  if (fleet.servers.has(key)) select(key);
});
const goals = new Goals($('goals-panel'));
const health = new Health($('health-panel'));
const logs = new LogExplorer($('logs-panel'), api);

$('fleet-legend').append(
  ...[['normal', 'normal'], ['cpu', 'cpu'], ['mem', 'memory'], ['net', 'network'], ['disk', 'disk'], ['crit', 'combined'], ['silent', 'silent']].map(([kind, label]) => {
    const item = el('span');
    const swatch = el('i');
    swatch.style.background = COLORS[kind];
    item.append(swatch, document.createTextNode(label));
    return item;
  }),
);

let selectSeq = 0;
async function select(id) {
  if (!id) return;
  state.selected = id;
  fleet.select(id);
  history.replaceState(null, '', `${location.search}#server=${encodeURIComponent(id)}`);
  $('chart-server').textContent = id;
  renderChartState();
  const seq = ++selectSeq;
  const response = await api(`/api/servers/${encodeURIComponent(id)}`);
  if (!response.ok || seq !== selectSeq) return;
  charts.load(await response.json());
}

function renderChartState() {
  const server = fleet.servers.get(state.selected);
  const node = $('chart-state');
  const alerts = server ? fleet.alertsOf(server) : [];
  node.textContent = alerts.length ? alerts.map(shortAlert).join(' · ') : 'normal';
  node.style.color = COLORS[alerts.length ? kindOf(alerts[0]) : 'normal'];
}

let statsFrame = 0;
function renderStats() {
  if (statsFrame) return;
  statsFrame = requestAnimationFrame(() => {
    statsFrame = 0;
    $('stat-servers').textContent = String(fleet.servers.size);
    const alerting = fleet.alertingCount();
    $('stat-alerting').textContent = String(alerting);
    $('stat-alerting').classList.toggle('hot', alerting > 0);
    const open = incidents.openCount();
    $('stat-open').textContent = String(open);
    $('stat-open').classList.toggle('hot', open > 0);
    $('stat-rate').textContent = fmtRate(health.rate());
    renderChartState();
  });
}

function applySnapshot(snapshot) {
  fleet.load(snapshot);
  incidents.load(snapshot.incidents);
  for (const i of snapshot.incidents) if (i.alert === 'Server silent' && i.state !== 'closed') fleet.setSilent(i.key, true);
  goals.load(snapshot.goals);
  health.load(snapshot.health, snapshot.healthHistory);
  const wanted = new URLSearchParams(location.hash.slice(1)).get('server');
  const id = (wanted && fleet.servers.has(wanted) ? wanted : null) ?? state.selected ?? fleet.firstChoice();
  if (id) void select(id);
  else charts.clear();
  renderStats();
}

function applyEvent(event) {
  switch (event.type) {
    case 'metric':
      fleet.metric(event.server, event.t, event.fields);
      if (state.selected === null) void select(event.server);
      else if (event.server === state.selected) charts.addPoint(event.t, event.fields);
      break;
    case 'window':
      fleet.window(event.job, event.row);
      break;
    case 'incident':
      incidents.update(event.incident);
      if (event.incident.alert === 'Server silent') fleet.setSilent(event.incident.key, event.incident.state !== 'closed');
      if (event.incident.key === state.selected) charts.setIncidents(incidents.forKey(state.selected));
      break;
    case 'goal':
      goals.update(event.detector, event.row);
      break;
    case 'health':
      health.update(event.health);
      break;
  }
}

function setConnection(mode, text) {
  $('conn').dataset.state = mode;
  $('conn-text').textContent = text;
}

function connect() {
  const source = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  source.addEventListener('snapshot', (message) => {
    setConnection('live', 'live');
    applySnapshot(JSON.parse(message.data));
  });
  source.addEventListener('batch', (message) => {
    for (const event of JSON.parse(message.data)) applyEvent(event);
    renderStats();
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // EventSource gives up on an HTTP error (401): say so, and retry slowly.
      setConnection('unauthorized', 'disconnected');
      setTimeout(connect, 5000);
    } else {
      setConnection('reconnecting', 'reconnecting');
    }
  });
}

async function init() {
  const response = await api('/api/snapshot').catch(() => null);
  if (response && response.status === 401) {
    setConnection('unauthorized', 'token required');
    return;
  }
  const snapshot = response && response.ok ? await response.json() : null;
  state.search = !!snapshot?.search;
  logs.setConnected(state.search);
  connect();
}

void init();
