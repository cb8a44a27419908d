// fast-check arbitraries of small server-metrics datasets (a few servers,
// random instants on a small grid so that duplicates happen, decimals with up
// to 3 places biased towards the thresholds and the .005 ties, missing halves
// of the join, rejected rows, blank lines), written as the CLI's input files.
import fc from 'fast-check';
import { COMBINED_HEADER, csvText } from './harness.ts';
import type { JobName } from '../support/reference-metrics.ts';

export type TimeMode = 'time-of-day' | 'midnight' | 'epoch' | 'iso';

interface MetricsEvent {
  readonly serverId: string;
  readonly second: number;
  readonly fraction: number; // milliseconds, absolute modes only
  readonly cpu: string;
  readonly mem: string;
  readonly netIn: string;
  readonly netOut: string;
  readonly disk: string;
  readonly dropFirst: boolean; // per-topic: this event's cpu (or net) record is missing
  readonly dropSecond: boolean;
}

interface BadRow {
  readonly kind: 'cpu-range' | 'negative' | 'server' | 'time' | 'fields' | 'number';
  readonly second: number;
}

export interface DatasetCase {
  readonly mode: TimeMode;
  readonly perTopic: boolean;
  readonly trimLeading: boolean;
  readonly thresholds: readonly [string, string] | undefined;
  readonly files: Record<string, string>;
  readonly inputArgs: readonly string[];
}

const SERVERS = ['server_1', 'server_2', 'server_10', 'db-7', 'web', 'a.b:c-3'];

/** A decimal text with 0..3 fractional digits in [0, max]. */
function decimalText(max: number, specials: readonly string[]): fc.Arbitrary<string> {
  const uniform = fc.integer({ min: 0, max: 3 }).chain((scale) =>
    fc.integer({ min: 0, max: max * 10 ** scale }).map((units) => {
      if (scale === 0) return String(units);
      const digits = String(units).padStart(scale + 1, '0');
      return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    }));
  return fc.oneof({ weight: 3, arbitrary: uniform }, { weight: 2, arbitrary: fc.constantFrom(...specials) });
}

const cpuText = decimalText(100, ['83.45', '83.454', '83.455', '83.46', '100', '0', '10.005', '0.005', '0.004']);
const memText = decimalText(100, ['78.92', '78.924', '78.925', '78.93', '100.0', '0.0', '2.675']);
const netText = decimalText(8000, ['4149.79', '4149.794', '4149.795', '4149.8', '0.005', '1.005']);
const diskText = decimalText(4000, ['1925.47', '1925.474', '1925.475', '1925.48', '0.004']);

function eventArbitrary(serverIds: readonly string[], span: number): fc.Arbitrary<MetricsEvent> {
  return fc.record({
    serverId: fc.constantFrom(...serverIds),
    second: fc.integer({ min: 0, max: span }),
    fraction: fc.constantFrom(0, 0, 125, 500, 999),
    cpu: cpuText,
    mem: memText,
    netIn: netText,
    netOut: decimalText(100, ['0']),
    disk: diskText,
    // each half of the join is missing with probability 1/6
    dropFirst: fc.integer({ min: 0, max: 5 }).map((n) => n === 5),
    dropSecond: fc.integer({ min: 0, max: 5 }).map((n) => n === 5),
  });
}

const badRowArbitrary: fc.Arbitrary<BadRow> = fc.record({
  kind: fc.constantFrom('cpu-range', 'negative', 'server', 'time', 'fields', 'number'),
  second: fc.integer({ min: 0, max: 90 }),
});

const pad = (n: number): string => String(n).padStart(2, '0');

function timeText(mode: TimeMode, second: number, fraction: number, variant: number): string {
  if (mode === 'time-of-day' || mode === 'midnight') {
    const base = mode === 'midnight' ? 23 * 3600 + 59 * 60 : 20 * 3600 + 50 * 60;
    const s = (base + second) % 86_400;
    return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  }
  const epochMillis = (1_659_509_400 + second) * 1000 + fraction;
  if (mode === 'epoch') {
    const whole = Math.floor(epochMillis / 1000);
    const ms = epochMillis % 1000;
    return ms === 0 ? String(whole) : `${whole}.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  }
  const iso = new Date(epochMillis).toISOString(); // ...T06:50:00.125Z
  if (variant % 3 === 0) return iso;
  if (variant % 3 === 1) return fraction === 0 ? iso.replace('.000Z', 'Z') : iso;
  // the same instant written with a +02:00 offset
  const local = new Date(epochMillis + 2 * 3600 * 1000).toISOString();
  return local.replace('Z', '+02:00');
}

/** A whole random case for one job: input files, flags, options. */
export function datasetCase(job: JobName, perTopic: boolean): fc.Arbitrary<DatasetCase> {
  return fc.record({
    mode: fc.constantFrom<TimeMode>('time-of-day', 'midnight', 'epoch', 'iso'),
    servers: fc.subarray(SERVERS, { minLength: 1, maxLength: 4 }),
    trimLeading: fc.boolean(),
    customThresholds: fc.option(fc.tuple(
      job === 'cpu-mem' ? cpuText : netText,
      job === 'cpu-mem' ? memText : diskText,
    ), { freq: 4 }),
    badRows: fc.array(badRowArbitrary, { maxLength: 3 }),
    blankAt: fc.array(fc.nat(), { maxLength: 2 }),
    seed: fc.nat(),
    // seconds covered: short (many duplicates, few windows) or longer (gaps, several incidents)
    span: fc.constantFrom(90, 90, 400),
  }).chain((shape) => fc.record({
    shape: fc.constant(shape),
    events: fc.array(eventArbitrary(shape.servers, shape.span), { minLength: 1, maxLength: shape.span > 90 ? 40 : 14 }),
  })).map(({ shape, events }) => {
    const { mode, trimLeading, badRows, blankAt, seed } = shape;
    const thresholds = shape.customThresholds ?? undefined;
    const ordered = [...events];
    let bad = [...badRows];
    // A replay across midnight comes in time order (a time of day more than 12 h before the latest
    // is the next day; going backwards over midnight is not defined by the spec). Every file of a
    // midnight case starts with an anchor before midnight, so each input counts days alike.
    if (mode === 'midnight') {
      ordered.sort((a, b) => a.second - b.second);
      ordered.unshift({ ...(ordered[0] as MetricsEvent), serverId: 'anchor_1', second: 0, dropFirst: false, dropSecond: false });
      bad = bad.filter((b) => b.second > 0).sort((a, b) => a.second - b.second);
    }
    const variantOf = (i: number): number => (seed + i) % 7;
    const line = (e: MetricsEvent, i: number, columns: readonly (keyof MetricsEvent)[]): string =>
      [timeText(mode, e.second, e.fraction, variantOf(i)), e.serverId, ...columns.map((c) => String(e[c]))].join(',');
    const badLine = (b: BadRow, columns: number): string => {
      const ts = timeText(mode, b.second, 0, 0);
      const numbers = Array.from({ length: columns }, () => '1');
      switch (b.kind) {
        case 'cpu-range': numbers[0] = job === 'cpu-mem' ? '100.5' : '-0.5'; break;
        case 'negative': numbers[numbers.length - 1] = '-1'; break;
        case 'number': numbers[0] = 'NaN'; break;
        case 'server': return [ts, 'bad/id', ...numbers].join(',');
        case 'time': return ['99:99:99', 'server_1', ...numbers].join(',');
        case 'fields': return [ts, 'server_1', ...numbers, '1'].join(',');
      }
      return [ts, 'server_1', ...numbers].join(',');
    };
    /** Merges bad rows in (in time order for midnight cases, else at positions from the seed) and blank lines. */
    const assemble = (header: string, good: string[], badLines: string[]): string => {
      const lines = [...good];
      badLines.forEach((b, i) => {
        const at = mode === 'midnight'
          ? Math.max(1, lines.length) // after everything: bad rows are at the end
          : (seed + 7 * i) % (lines.length + 1);
        lines.splice(at, 0, b);
      });
      for (const b of blankAt) lines.splice(b % (lines.length + 1), 0, '');
      return csvText([header, ...lines]);
    };
    // Rows come in the random order of generation (sorted for midnight cases); a (server, instant)
    // drawn twice is a duplicate, the later row in its file must win.
    if (!perTopic) {
      const good = ordered.map((e, i) => line(e, i, ['cpu', 'mem', 'netIn', 'netOut', 'disk']));
      return {
        mode, perTopic, trimLeading, thresholds,
        files: { 'metrics.csv': assemble(COMBINED_HEADER, good, bad.map((b) => badLine(b, 5))) },
        inputArgs: ['--input', 'metrics.csv'],
      };
    }
    const [firstName, secondName] = job === 'cpu-mem' ? ['cpu', 'mem'] : ['net', 'disk'];
    const firstColumns: (keyof MetricsEvent)[] = job === 'cpu-mem' ? ['cpu'] : ['netIn', 'netOut'];
    const secondColumns: (keyof MetricsEvent)[] = job === 'cpu-mem' ? ['mem'] : ['disk'];
    const firstHeader = job === 'cpu-mem' ? 'ts,server_id,cpu_pct' : 'ts,server_id,net_in,net_out';
    const secondHeader = job === 'cpu-mem' ? 'ts,server_id,mem_pct' : 'ts,server_id,disk_io';
    const firstGood = ordered.flatMap((e, i) => (e.dropFirst ? [] : [line(e, i, firstColumns)]));
    const secondGood = ordered.flatMap((e, i) => (e.dropSecond ? [] : [line(e, i, secondColumns)]));
    // The second file lists its rows in reverse order (the reverse of a midnight replay is not one).
    const secondOrdered = mode === 'midnight' ? secondGood : [...secondGood].reverse();
    const firstFile = assemble(firstHeader, firstGood, bad.filter((_, i) => i % 2 === 0).map((b) => badLine(b, firstColumns.length)));
    const secondFile = assemble(secondHeader, secondOrdered, bad.filter((_, i) => i % 2 === 1).map((b) => badLine(b, secondColumns.length)));
    return {
      mode, perTopic, trimLeading, thresholds,
      files: { [`${firstName}.csv`]: firstFile, [`${secondName}.csv`]: secondFile },
      inputArgs: [`--${firstName}`, `${firstName}.csv`, `--${secondName}`, `${secondName}.csv`],
    };
  });
}
