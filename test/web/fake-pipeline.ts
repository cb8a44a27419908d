// Deterministic pipeline output for the dashboard tests: a fleet of servers
// with 5-second metrics, their 30 s / 10 s window rows, a few incidents, the
// NGINX goals and health readings, pushed through the DashboardFeed
// interface exactly as `detect` would.
import type { DashboardFeed, IncidentEvent } from '../../src/web/feed.ts';

/** A small deterministic PRNG (mulberry32), so screenshots are stable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const START = (20 * 3600 + 53 * 60) * 1000;
const round2 = (n: number): number => Math.round(n * 100) / 100;

export interface FleetPoint {
  cpu: number;
  mem: number;
  net_in: number;
  disk_io: number;
}

/** The value of each metric for server i at step k (5 s steps); a few servers misbehave on purpose. */
export function pointAt(i: number, k: number, random: () => number): FleetPoint {
  const wave = Math.sin((k + i * 7) / 12);
  let cpu = 38 + i * 1.7 + 14 * wave + random() * 8;
  let mem = 46 + i * 1.2 + 8 * Math.cos((k + i) / 20) + random() * 5;
  let net = 900 + 500 * Math.sin((k + i * 3) / 9) + random() * 300 + i * 40;
  let disk = 400 + 250 * Math.cos((k + i) / 15) + random() * 120;
  if (i === 2 && k % 120 > 90) cpu = 86 + random() * 10;
  if (i === 5 && k % 150 > 100) {
    cpu = 88 + random() * 8;
    mem = 82 + random() * 6;
  }
  if (i === 8 && k % 100 > 70) net = 4300 + random() * 1400;
  if (i === 10 && k % 140 > 110) mem = 80 + random() * 6;
  if (i === 11 && k % 90 > 70) disk = 2000 + random() * 500;
  return { cpu: round2(Math.min(cpu, 100)), mem: round2(Math.min(mem, 100)), net_in: round2(Math.max(0, net)), disk_io: round2(Math.max(0, disk)) };
}

export interface SeedOptions {
  servers?: number;
  steps?: number;
  seed?: number;
}

/** History for the fleet: points, window rows every 10 s with their alerts, incidents, goals and health. */
export function seedFleet(feed: DashboardFeed, options: SeedOptions = {}): { servers: string[]; nextStep: number } {
  const servers = options.servers ?? 12;
  const steps = options.steps ?? 360;
  const random = prng(options.seed ?? 7);
  const ids = Array.from({ length: servers }, (_, i) => `server_${i + 1}`);
  const history: FleetPoint[][] = ids.map(() => []);
  const open = new Map<string, IncidentEvent>();
  for (let k = 0; k < steps; k++) {
    const t = START + k * 5000;
    ids.forEach((id, i) => {
      const p = pointAt(i, k, random);
      history[i]!.push(p);
      feed.metric(id, t, p);
    });
    // A window [t-20 s, t+10 s) closes every 10 s: 30 s hopping by 10 s, as cpu-mem and net-disk.
    if (k % 2 === 1 && k >= 5) {
      const end = t + 5000;
      const start = end - 30_000;
      ids.forEach((id, i) => {
        const span = history[i]!.slice(-6);
        const avg = (f: keyof FleetPoint): number => round2(span.reduce((s, p) => s + p[f], 0) / span.length);
        const max = (f: keyof FleetPoint): number => Math.max(...span.map((p) => p[f]));
        const cpu = avg('cpu');
        const mem = avg('mem');
        const cpuAlert = cpu > 83.45 && mem > 78.92 ? 'High CPU + Memory stress' : cpu > 83.45 ? 'CPU spike suspected' : mem > 78.92 ? 'Memory saturation suspected' : '';
        feed.windowRow('cpu-mem', { server: id, start, end, values: { avg_cpu: cpu, avg_mem: mem }, alert: cpuAlert });
        const net = max('net_in');
        const disk = max('disk_io');
        const netAlert = net > 4149.79 && disk > 1925.47 ? 'Network flood + Disk thrash suspected' : net > 4149.79 ? 'Possible DDoS' : disk > 1925.47 ? 'Disk thrash suspected' : '';
        feed.windowRow('net-disk', { server: id, start, end, values: { max_net_in: net, max_disk_io: disk }, alert: netAlert });
        for (const [detector, alert, peak] of [['cpu-mem', cpuAlert, alert2peak(cpuAlert, cpu, mem)], ['net-disk', netAlert, alert2peak(netAlert, net, disk)]] as const) {
          const keyPrefix = `${detector}|${id}|`;
          // Close this server's incidents of other alerts (or all, when the window is normal).
          for (const [key, incident] of open) {
            if (key.startsWith(keyPrefix) && incident.alert !== alert && incident.end <= start) {
              open.delete(key);
              feed.incident({ ...incident, state: 'closed' });
            }
          }
          if (alert === '') continue;
          const key = keyPrefix + alert;
          const current = open.get(key);
          if (current && start <= current.end) {
            const next = { ...current, end, windows: current.windows + 1, peak: Math.max(current.peak, peak), state: 'updated' as const };
            open.set(key, next);
            feed.incident(next);
          } else {
            if (current) feed.incident({ ...current, state: 'closed' });
            const incident: IncidentEvent = { detector, key: id, alert, start, end, windows: 1, peak, state: 'opened', timeKind: 'time-of-day' };
            open.set(key, incident);
            feed.incident(incident);
          }
        }
      });
    }
  }
  seedGoals(feed, START + steps * 5000, random);
  feed.health({
    at: Date.now(),
    topics: [
      { topic: 'topic-cpu', inPerSec: 2.4 },
      { topic: 'topic-mem', inPerSec: 2.4 },
      { topic: 'topic-net', inPerSec: 2.4 },
      { topic: 'topic-disk', inPerSec: 2.4 },
      { topic: 'nginx-logs', inPerSec: 180, outPerSec: 22 },
    ],
    lag: [
      { group: 'detect-cpu-mem', topic: 'topic-cpu', partition: 0, lag: 3 },
      { group: 'detect-cpu-mem', topic: 'topic-mem', partition: 0, lag: 1 },
      { group: 'detect-nginx', topic: 'nginx-logs', partition: 0, lag: 42 },
    ],
    late: 2,
    rejected: 5,
  });
  return { servers: ids, nextStep: steps };
}

function alert2peak(alert: string, first: number, second: number): number {
  return alert === 'Memory saturation suspected' || alert === 'Disk thrash suspected' ? second : first;
}

function seedGoals(feed: DashboardFeed, now: number, random: () => number): void {
  const ips = ['154.85.126.16', '31.56.96.51', '66.249.66.194', '5.160.157.20', '91.99.72.15', '185.143.232.7', '2.180.16.91'];
  ips.forEach((ip, i) => feed.goal('ip-burst', { start: now - 20_000, end: now, key: ip, value: 11 + Math.round((ips.length - i) * 4 * random() + i) }));
  const hosts = ['api_38.digikala.com', 'www.digikala.com', 'cdn_4.digikala.com', 'search.digikala.com', 'img_12.digikala.com'];
  hosts.slice(0, 3).forEach((host, i) => feed.goal('host-4xx', { start: now - 30_000, end: now, key: host, value: 16 + (3 - i) * 7 }));
  ['IR', 'US', 'DE', 'NL', 'FR', 'GB', 'TR', 'AE'].forEach((country, i) => feed.goal('country-success', { start: now - 60_000, end: now, key: country, value: Math.round(4800 / (i + 1) + random() * 40) }));
  hosts.forEach((host, i) => feed.goal('host-latency', { start: now - 60_000, end: now, key: host, value: Math.round((0.05 + i * 0.07 + random() * 0.05) * 1000) / 1000 }));
}
