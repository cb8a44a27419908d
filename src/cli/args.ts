// Argument parsing shared by every command: node:util parseArgs plus the
// conventions of CLI.md (--help everywhere, -b/--brokers/--bootstrap-server,
// numbers checked with a clear message).
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

export function str(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function required(parsed: Parsed, name: string): string {
  const value = str(parsed, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

export function num(parsed: Parsed, name: string, fallback: number, check: (n: number) => boolean = Number.isFinite): number {
  const text = str(parsed, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !check(value)) throw new UsageError(`--${name}: '${text}' is not a valid value`);
  return value;
}

export const brokerOptions: OptionSpec = {
  brokers: { type: 'string', short: 'b' },
  'bootstrap-server': { type: 'string' },
};

/** Brokers from -b/--brokers/--bootstrap-server, then KAFKA_BROKERS, then 127.0.0.1:9092. */
export function brokers(parsed: Parsed): string[] {
  const text = str(parsed, 'brokers') ?? str(parsed, 'bootstrap-server') ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of list) {
    if (!/^[^:\s]+:\d{1,5}$/.test(item) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(item)) throw new UsageError(`--brokers: '${item}' is not host:port`);
  }
  if (list.length === 0) throw new UsageError('--brokers: empty list');
  return list;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration flag (`500ms`, `10s`, `5m`, `1h`; a plain number is seconds) in milliseconds. */
export function duration(parsed: Parsed, name: string, fallbackMs: number): number {
  const text = str(parsed, name);
  if (text === undefined) return fallbackMs;
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`--${name}: '${text}' is not a duration (e.g. 10s, 5m)`);
  return Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
}

/** An AbortSignal that fires on SIGINT or SIGTERM, so long-running commands stop cleanly. */
export function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
