// From two readings of /proc to one metrics sample (SEMANTICS.md section 1
// values): cpu % busy and network and disk rates over the time between the
// readings, memory % used at the second one. Pure: readings carry their own
// clocks, so tests feed hand-made ones.

import { formatUnits } from '../../engine/decimal.ts';
import { MAX_SERVER_ID_LENGTH } from '../../engine/metric-record.ts';
import { parseCpuStat, parseDiskstats, parseMeminfo, parseNetDev, type CpuTimes, type DiskCounters, type MemInfo, type NetCounters, type Parsed } from './proc-text.ts';

/** The texts of the four files, as read at one moment. */
export interface ProcTexts {
  stat: string;
  meminfo: string;
  netDev: string;
  diskstats: string;
}

export interface ProcReading {
  /** Monotonic clock (ms) when the files were read: rates divide by its difference. */
  monoMs: number;
  /** Wall clock (ms since the epoch): the sample's timestamp. */
  wallMs: number;
  cpu: CpuTimes;
  mem: MemInfo;
  net: Map<string, NetCounters>;
  disks: Map<string, DiskCounters>;
}

export function parseReading(texts: ProcTexts, monoMs: number, wallMs: number): Parsed<ProcReading> {
  const cpu = parseCpuStat(texts.stat);
  if (!cpu.ok) return cpu;
  const mem = parseMeminfo(texts.meminfo);
  if (!mem.ok) return mem;
  const net = parseNetDev(texts.netDev);
  if (!net.ok) return net;
  const disks = parseDiskstats(texts.diskstats);
  if (!disks.ok) return disks;
  return { ok: true, value: { monoMs, wallMs, cpu: cpu.value, mem: mem.value, net: net.value, disks: disks.value } };
}

/** Values of one sample, each as the decimal text published (2 decimals at most). */
export interface SampleValues {
  cpu_pct: string;
  mem_pct: string;
  net_in: string;
  net_out: string;
  disk_io: string;
}

export type SampleResult =
  | { ok: true; values: SampleValues; notes: string[] }
  | { ok: false; reason: string; notes: string[] };

export interface SampleOptions {
  /** Interfaces counted for net_in/net_out; null: every one but lo. */
  interfaces: readonly string[] | null;
}

/**
 * The sample between `prev` and `curr`. A counter that went backwards
 * (reboot, driver reload, a 32-bit counter wrapping) gives no sample but a
 * reason; the caller then takes `curr` as the new baseline. Interfaces and
 * disks present in only one reading are not counted (notes say which appeared
 * or went away): a device that appears is counted from the next sample on.
 */
export function computeSample(prev: ProcReading, curr: ProcReading, options: SampleOptions): SampleResult {
  const notes: string[] = [];
  const seconds = (curr.monoMs - prev.monoMs) / 1000;
  if (!(seconds > 0)) return { ok: false, reason: 'no time elapsed between the two readings', notes };

  const ticks = curr.cpu.total - prev.cpu.total;
  const idleTicks = curr.cpu.idle - prev.cpu.idle;
  if (ticks < 0) return { ok: false, reason: `cpu time went backwards (${prev.cpu.total} → ${curr.cpu.total} ticks): reboot or counter reset`, notes };
  if (ticks === 0) return { ok: false, reason: 'no cpu time elapsed between the two readings (interval shorter than a clock tick)', notes };
  // iowait may decrease on tickless kernels (proc.rst says so): clamping keeps the value in range.
  const cpuPct = clamp(100 * (ticks - idleTicks) / ticks, 0, 100);
  const memPct = clamp(100 * (curr.mem.totalKb - curr.mem.availableKb) / curr.mem.totalKb, 0, 100);

  let rxBytes = 0;
  let txBytes = 0;
  const counted = (name: string) => (options.interfaces === null ? name !== 'lo' : options.interfaces.includes(name));
  for (const [name, now] of curr.net) {
    if (!counted(name)) continue;
    const before = prev.net.get(name);
    if (before === undefined) {
      notes.push(`interface ${name} appeared (counted from the next sample)`);
      continue;
    }
    if (now.rxBytes < before.rxBytes || now.txBytes < before.txBytes) {
      return { ok: false, reason: `byte counters of interface ${name} went backwards (rx ${before.rxBytes} → ${now.rxBytes}, tx ${before.txBytes} → ${now.txBytes}): counter wrap or reset`, notes };
    }
    rxBytes += now.rxBytes - before.rxBytes;
    txBytes += now.txBytes - before.txBytes;
  }
  for (const name of prev.net.keys()) {
    if (counted(name) && !curr.net.has(name)) notes.push(`interface ${name} went away`);
  }

  let operations = 0;
  for (const [name, now] of curr.disks) {
    const before = prev.disks.get(name);
    if (before === undefined) {
      notes.push(`disk ${name} appeared (counted from the next sample)`);
      continue;
    }
    if (now.readsCompleted < before.readsCompleted || now.writesCompleted < before.writesCompleted) {
      return { ok: false, reason: `I/O counters of disk ${name} went backwards (reads ${before.readsCompleted} → ${now.readsCompleted}, writes ${before.writesCompleted} → ${now.writesCompleted}): counter wrap or reset`, notes };
    }
    operations += now.readsCompleted - before.readsCompleted + now.writesCompleted - before.writesCompleted;
  }
  for (const name of prev.disks.keys()) {
    if (!curr.disks.has(name)) notes.push(`disk ${name} went away`);
  }

  return {
    ok: true,
    notes,
    values: {
      cpu_pct: decimal2(cpuPct),
      mem_pct: decimal2(memPct),
      net_in: decimal2(rxBytes / 1024 / seconds),
      net_out: decimal2(txBytes / 1024 / seconds),
      disk_io: decimal2(operations / seconds),
    },
  };
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}

/** A non-negative finite value rounded half up to 2 decimals, as the shortest decimal text (12.5, 0.0, 100.0). */
export function decimal2(value: number): string {
  const hundredths = Math.round(value * 100);
  return formatUnits(Number.isFinite(hundredths) && hundredths > 0 ? hundredths : 0, 2);
}

/** A host name as a server_id: characters outside A-Z a-z 0-9 _ . : - become '_', at most 128 characters. */
export function serverIdFromHostname(hostname: string): string {
  const id = hostname.replace(/[^A-Za-z0-9_.:-]/gu, '_').slice(0, MAX_SERVER_ID_LENGTH);
  return id === '' ? 'localhost' : id;
}
