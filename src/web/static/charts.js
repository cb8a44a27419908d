// Per-server charts (cpu, mem, net_in, disk_io) on uPlot: the threshold is a
// dashed line, alert windows are shaded in their alert's colour, cursors are
// synced across the four charts. New points are appended to the columns and
// drawn at most once per animation frame, so thousands of points stay smooth.
import uPlot from '/vendor/uPlot.esm.js';
import { COLORS, kindOf, fmt } from './util.js';

const METRICS = [
  { name: 'cpu', color: '#38bdf8', digits: 1, job: 'cpu-mem', alerts: ['CPU spike suspected', 'High CPU + Memory stress'] },
  { name: 'mem', color: '#a78bfa', digits: 1, job: 'cpu-mem', alerts: ['Memory saturation suspected', 'High CPU + Memory stress'] },
  { name: 'net_in', color: '#f472b6', digits: 0, job: 'net-disk', alerts: ['Possible DDoS', 'Network flood + Disk thrash suspected'] },
  { name: 'disk_io', color: '#2dd4bf', digits: 0, job: 'net-disk', alerts: ['Disk thrash suspected', 'Network flood + Disk thrash suspected'] },
];
/** Points kept in the browser per chart. */
const MAX_POINTS = 5000;

/** Tick labels in UTC, 24-hour: HH:MM when every tick is on a minute, else HH:MM:SS; the date when the span passes a day. */
function timeTicks(u, splits) {
  const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
  const wholeMinutes = splits.every((s) => s % 60 === 0);
  return splits.map((s) => {
    const iso = new Date(s * 1000).toISOString();
    const time = iso.slice(11, wholeMinutes ? 16 : 19);
    return span > 86400 ? `${iso.slice(5, 10)} ${time}` : time;
  });
}

const axisStyle = {
  stroke: '#8b95a7',
  grid: { stroke: 'rgba(35, 44, 63, .9)', width: 1 },
  ticks: { stroke: 'rgba(35, 44, 63, .9)', width: 1, size: 4 },
  font: '11px system-ui, sans-serif',
};

export class ServerCharts {
  constructor(root) {
    this.root = root;
    this.server = null;
    this.thresholds = {};
    this.incidents = [];
    this.times = [];
    this.columns = Object.fromEntries(METRICS.map((m) => [m.name, []]));
    this.plots = new Map();
    this.frame = 0;
    for (const metric of METRICS) this.plots.set(metric.name, this.createPlot(metric));
    new ResizeObserver(() => this.resize()).observe(root);
  }

  createPlot(metric) {
    const host = this.root.querySelector(`#chart-${metric.name}`);
    const options = {
      width: Math.max(200, host.clientWidth),
      height: host.clientHeight || 170,
      // Instants are UTC: a time of day shows as itself, not shifted by the browser's zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      cursor: { sync: { key: 'streamwatch' }, points: { size: 6 } },
      legend: { show: false },
      padding: [8, 8, 0, 0],
      scales: {
        x: { time: true },
        y: {
          range: (u, min, max) => {
            const limit = this.thresholds[metric.name];
            const top = Math.max((max ?? 0) * 1.06, limit !== undefined ? limit * 1.1 : 0);
            const bottom = Math.min(min ?? 0, 0);
            return [bottom, top > bottom ? top : bottom + 1];
          },
        },
      },
      axes: [
        { ...axisStyle, space: 70, size: 26, values: timeTicks },
        { ...axisStyle, size: 46, values: (u, ticks) => ticks.map((v) => (Math.abs(v) >= 1000 ? `${v / 1000}k` : String(v))) },
      ],
      series: [
        {},
        { label: metric.name, stroke: metric.color, width: 1.5, fill: metric.color + '1f', points: { show: false }, spanGaps: true },
      ],
      hooks: {
        drawClear: [(u) => this.shade(u, metric)],
        draw: [(u) => this.drawThreshold(u, metric)],
      },
    };
    return new uPlot(options, [[], []], host);
  }

  /** Alert windows of this metric's job, behind the series. */
  shade(u, metric) {
    const { ctx, bbox } = u;
    const [xMin, xMax] = [u.scales.x.min, u.scales.x.max];
    if (xMin === undefined || xMax === undefined || xMin === null) return;
    ctx.save();
    for (const incident of this.incidents) {
      if (incident.detector !== metric.job || !metric.alerts.includes(incident.alert)) continue;
      const start = incident.start / 1000;
      const end = incident.end / 1000;
      if (end < xMin || start > xMax) continue;
      const x0 = Math.max(bbox.left, u.valToPos(start, 'x', true));
      const x1 = Math.min(bbox.left + bbox.width, u.valToPos(end, 'x', true));
      ctx.fillStyle = COLORS[kindOf(incident.alert)] + (incident.state === 'closed' ? '24' : '38');
      ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height);
    }
    ctx.restore();
  }

  drawThreshold(u, metric) {
    const limit = this.thresholds[metric.name];
    if (limit === undefined) return;
    const { ctx, bbox } = u;
    const y = Math.round(u.valToPos(limit, 'y', true)) + 0.5;
    ctx.save();
    ctx.strokeStyle = 'rgba(239, 68, 68, .85)';
    ctx.lineWidth = 1.25 * (window.devicePixelRatio || 1);
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    // The label sits on a chip of the panel colour so the series never hides it.
    const ratio = window.devicePixelRatio || 1;
    ctx.setLineDash([]);
    ctx.font = `600 ${10.5 * ratio}px system-ui, sans-serif`;
    const text = String(limit);
    const width = ctx.measureText(text).width + 8 * ratio;
    const height = 14 * ratio;
    const x = bbox.left + bbox.width - width - 6 * ratio;
    ctx.fillStyle = 'rgba(23, 31, 48, .92)';
    ctx.fillRect(x, y - height / 2, width, height);
    ctx.strokeStyle = 'rgba(239, 68, 68, .6)';
    ctx.lineWidth = ratio;
    ctx.strokeRect(x, y - height / 2, width, height);
    ctx.fillStyle = '#fca5a5';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillText(text, x + 4 * ratio, y + 0.5 * ratio);
    ctx.restore();
  }

  /** Shows one server: its full recent series from the server. */
  load(series) {
    this.server = series.server;
    this.thresholds = series.thresholds ?? {};
    this.incidents = series.incidents ?? [];
    this.times = series.points.t.map((t) => t / 1000);
    for (const metric of METRICS) this.columns[metric.name] = series.points[metric.name].slice();
    this.schedule();
  }

  clear() {
    this.server = null;
    this.times = [];
    for (const metric of METRICS) this.columns[metric.name] = [];
    this.incidents = [];
    this.schedule();
  }

  /** A live point of the shown server. */
  addPoint(t, fields) {
    const ts = t / 1000;
    let i = this.times.length;
    // Points usually come in order; a late one is placed by binary search.
    if (i > 0 && this.times[i - 1] >= ts) {
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.times[mid] < ts) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    if (this.times[i] === ts) {
      for (const metric of METRICS) if (fields[metric.name] !== undefined) this.columns[metric.name][i] = fields[metric.name];
    } else {
      this.times.splice(i, 0, ts);
      for (const metric of METRICS) this.columns[metric.name].splice(i, 0, fields[metric.name] ?? null);
    }
    if (this.times.length > MAX_POINTS) {
      const excess = this.times.length - MAX_POINTS;
      this.times.splice(0, excess);
      for (const metric of METRICS) this.columns[metric.name].splice(0, excess);
    }
    this.schedule();
  }

  setIncidents(incidents) {
    this.incidents = incidents;
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  redraw() {
    for (const metric of METRICS) {
      const plot = this.plots.get(metric.name);
      plot.setData([this.times, this.columns[metric.name]]);
      const host = plot.root.parentElement;
      host.dataset.points = String(this.times.length);
      const column = this.columns[metric.name];
      let latest = null;
      for (let k = column.length - 1; k >= 0; k--) {
        if (column[k] !== null && column[k] !== undefined) {
          latest = column[k];
          break;
        }
      }
      const value = this.root.querySelector(`#val-${metric.name}`);
      if (value) {
        value.textContent = latest === null ? '' : fmt(latest, metric.digits);
        const over = latest !== null && this.thresholds[metric.name] !== undefined && latest > this.thresholds[metric.name];
        value.style.color = over ? '#ef4444' : '';
      }
    }
  }

  resize() {
    for (const metric of METRICS) {
      const plot = this.plots.get(metric.name);
      const host = plot.root.parentElement;
      const width = Math.max(200, host.clientWidth);
      if (Math.abs(plot.width - width) > 1) plot.setSize({ width, height: host.clientHeight || 170 });
    }
  }
}
