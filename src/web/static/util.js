// Shared helpers of the dashboard page: alert kinds and their colours,
// number and time formatting, natural sort, a tiny canvas sparkline.

/** Alert text -> kind (a CSS class and a colour); unknown texts fall back by detector. */
const KINDS = {
  'High CPU + Memory stress': 'crit',
  'CPU spike suspected': 'cpu',
  'Memory saturation suspected': 'mem',
  'Network flood + Disk thrash suspected': 'crit',
  'Possible DDoS': 'net',
  'Disk thrash suspected': 'disk',
  'Server silent': 'silent',
};
const SEVERITY = { normal: 0, log: 1, silent: 2, disk: 2, net: 2, mem: 2, cpu: 2, crit: 3 };

export const COLORS = {
  normal: '#22c55e', cpu: '#f59e0b', mem: '#a78bfa', net: '#f472b6', disk: '#2dd4bf', crit: '#ef4444', log: '#38bdf8', silent: '#94a3b8',
};

export function kindOf(alert) {
  if (!alert) return 'normal';
  return KINDS[alert] ?? 'log';
}

export function severity(kind) {
  return SEVERITY[kind] ?? 1;
}

/** Short label for a tile. */
export function shortAlert(alert) {
  return {
    'High CPU + Memory stress': 'CPU + mem',
    'CPU spike suspected': 'CPU spike',
    'Memory saturation suspected': 'mem saturation',
    'Network flood + Disk thrash suspected': 'flood + disk',
    'Possible DDoS': 'DDoS?',
    'Disk thrash suspected': 'disk thrash',
    'Server silent': 'silent',
  }[alert] ?? alert;
}

const collator = new Intl.Collator('en', { numeric: true });
export const naturalCompare = (a, b) => collator.compare(a, b);

export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (Math.abs(value) >= 10000) return (value / 1000).toFixed(1) + 'k';
  return value.toFixed(digits);
}

export function fmtRate(value) {
  if (!value) return '0';
  if (value >= 1000) return (value / 1000).toFixed(1) + 'k';
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}

/**
 * Event instants are ms: epoch for absolute inputs, from midnight for
 * times of day. Both print in UTC, the first with its date when not today.
 */
export function fmtInstant(ms, kind) {
  const d = new Date(ms);
  const time = d.toISOString().slice(11, 19);
  const absolute = kind === 'absolute' || (kind === undefined && ms >= 2 * 86400000);
  return absolute ? `${d.toISOString().slice(5, 10)} ${time}` : time;
}

export function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draws values (nulls skipped) as a line with a soft fill; `limit` draws a dashed threshold. */
export function sparkline(canvas, values, color, limit) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 120;
  const height = canvas.clientHeight || 30;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length < 2) return;
  let min = Math.min(...present);
  let max = Math.max(...present);
  if (limit !== undefined) max = Math.max(max, limit * 1.05);
  min = Math.min(min, 0);
  const span = max - min || 1;
  const x = (i) => (i / (values.length - 1)) * (width - 2) + 1;
  const y = (v) => height - 2 - ((v - min) / span) * (height - 4);
  if (limit !== undefined) {
    ctx.strokeStyle = 'rgba(239, 68, 68, .55)';
    ctx.setLineDash([3, 3]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, y(limit));
    ctx.lineTo(width, y(limit));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.beginPath();
  let started = false;
  let firstX = 0;
  let lastX = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    if (!started) {
      ctx.moveTo(x(i), y(v));
      firstX = x(i);
      started = true;
    } else {
      ctx.lineTo(x(i), y(v));
    }
    lastX = x(i);
  });
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.4;
  ctx.stroke();
  ctx.lineTo(lastX, height);
  ctx.lineTo(firstX, height);
  ctx.closePath();
  ctx.fillStyle = color + '22';
  ctx.fill();
}
