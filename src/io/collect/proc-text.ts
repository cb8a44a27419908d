// Parsers of the Linux /proc files `streamwatch collect` reads. Each takes
// the file's text and returns the counters it holds, or a reason when the
// text is not what the kernel writes (a parser never throws: a bad reading
// becomes a skipped sample with that reason).
//
// Formats (Documentation/filesystems/proc.rst, Documentation/admin-guide/iostats.rst):
//   /proc/stat       `cpu  user nice system idle iowait irq softirq steal guest guest_nice` (USER_HZ ticks, all CPUs)
//   /proc/meminfo    `MemTotal:  24683656 kB` one field a line
//   /proc/net/dev    two header lines, then `iface: rx_bytes rx_packets ... (8 rx fields) tx_bytes ...`
//   /proc/diskstats  `major minor name reads_completed reads_merged sectors_read ms_reading writes_completed ...`

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface CpuTimes {
  /** Ticks of all kinds, over all CPUs (guest time is already inside user and nice, so it is not added again). */
  total: number;
  /** Ticks idle or waiting for I/O: the CPU was free to run something. */
  idle: number;
}

export interface MemInfo {
  totalKb: number;
  availableKb: number;
}

export interface NetCounters {
  rxBytes: number;
  txBytes: number;
}

export interface DiskCounters {
  readsCompleted: number;
  writesCompleted: number;
}

/** A counter: a non-negative integer (up to 2^64 in the kernel; exact here up to 2^53, 9 PB of bytes). */
function counter(text: string | undefined): number {
  if (text === undefined || !/^\d+$/.test(text)) return Number.NaN;
  return Number(text);
}

/** The aggregate `cpu` line of /proc/stat. */
export function parseCpuStat(text: string): Parsed<CpuTimes> {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return { ok: false, reason: "stat: no aggregate 'cpu' line" };
  const fields = line.trim().split(/\s+/).slice(1).map(counter);
  // user nice system idle are in every kernel; iowait, irq, softirq, steal came later (2.5.41 .. 2.6.11).
  if (fields.length < 4 || fields.some((n) => Number.isNaN(n))) return { ok: false, reason: `stat: malformed cpu line '${line.trim()}'` };
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields as number[];
  return { ok: true, value: { total: user! + nice! + system! + idle! + iowait + irq + softirq + steal, idle: idle! + iowait } };
}

/** MemTotal and MemAvailable of /proc/meminfo (kernels before 3.14 lack MemAvailable: MemFree + Buffers + Cached then). */
export function parseMeminfo(text: string): Parsed<MemInfo> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match) fields.set(match[1]!, Number(match[2]));
  }
  const totalKb = fields.get('MemTotal');
  if (totalKb === undefined || totalKb <= 0) return { ok: false, reason: 'meminfo: no MemTotal' };
  let availableKb = fields.get('MemAvailable');
  if (availableKb === undefined) {
    const free = fields.get('MemFree');
    if (free === undefined) return { ok: false, reason: 'meminfo: neither MemAvailable nor MemFree' };
    availableKb = free + (fields.get('Buffers') ?? 0) + (fields.get('Cached') ?? 0);
  }
  return { ok: true, value: { totalKb, availableKb } };
}

/** Byte counters per interface of /proc/net/dev. */
export function parseNetDev(text: string): Parsed<Map<string, NetCounters>> {
  const interfaces = new Map<string, NetCounters>();
  const lines = text.split('\n');
  if (!lines[0]?.includes('|') || !lines[1]?.includes('|')) return { ok: false, reason: 'net/dev: missing header lines' };
  for (const line of lines.slice(2)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(counter);
    if (name === '' || fields.length < 16 || fields.some((n) => Number.isNaN(n))) return { ok: false, reason: `net/dev: malformed line '${line.trim()}'` };
    interfaces.set(name, { rxBytes: fields[0]!, txBytes: fields[8]! });
  }
  return { ok: true, value: interfaces };
}

/**
 * Completed reads and writes of the whole disks in /proc/diskstats. Left
 * out: partitions (their I/O is already in their disk's counters), loop,
 * ram and zram devices (memory, not disks), and device-mapper and md
 * devices (dm-*, md*: built on disks that are already counted).
 */
export function parseDiskstats(text: string): Parsed<Map<string, DiskCounters>> {
  const devices = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const name = fields[2];
    const readsCompleted = counter(fields[3]);
    const writesCompleted = counter(fields[7]);
    // 14 fields before Linux 4.18, 18 with discards, 20 with flushes (5.5).
    if (name === undefined || fields.length < 14 || Number.isNaN(readsCompleted) || Number.isNaN(writesCompleted)) {
      return { ok: false, reason: `diskstats: malformed line '${line.trim()}'` };
    }
    devices.set(name, { readsCompleted, writesCompleted });
  }
  const disks = new Map<string, DiskCounters>();
  for (const [name, counters] of devices) {
    if (isWholeDisk(name, devices)) disks.set(name, counters);
  }
  return { ok: true, value: disks };
}

const NOT_DISKS = /^(loop|ram|zram|dm-|md)\d/;

/** Partitions are named after their disk: sda → sda1, nvme0n1 → nvme0n1p1, mmcblk0 → mmcblk0p2. */
export function isWholeDisk(name: string, devices: ReadonlyMap<string, unknown>): boolean {
  if (NOT_DISKS.test(name)) return false;
  // Every split of the trailing number: sda12 → sda1 + 2, sda + 12.
  for (let cut = name.length - 1; cut > 0 && isDigit(name.charCodeAt(cut)); cut--) {
    const head = name.slice(0, cut);
    if (!isDigit(head.charCodeAt(head.length - 1)) && devices.has(head)) return false;
    const disk = head.slice(0, -1);
    if (head.endsWith('p') && isDigit(disk.charCodeAt(disk.length - 1)) && devices.has(disk)) return false;
  }
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
