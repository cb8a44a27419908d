// Keyed hopping/tumbling windows for count and mean aggregates, computed by
// window slicing: events are summed into panes of the slide's length, and a
// window [w, w+S) is the merge of its S/H panes when it closes. An event
// costs one pane update however many windows hold it (ip-burst: 20 windows
// of 1-second hop), and a closing window costs at most S/H pane merges.
//
// No de-duplication: every event counts (unlike paired-windows.ts, where a
// later record for the same instant replaces the earlier one).
//
// Conventions follow paired-windows.ts: `add` says accepted or late, each
// (key, window) that holds at least one event of its key is emitted once,
// when the watermark reaches its end, `flush` emits the rest at end of
// input, and `snapshot`/`restore` carry the state across restarts.
//
// State is bounded by the open windows: panes behind every open window are
// dropped, and a key whose last pane goes is forgotten. Keys wait in a queue
// ordered by the end of the next window they must close, so advancing the
// watermark touches only keys with a window to close, never all keys.
//
// A key's panes are parallel arrays (starts, counts, sums), not one object
// per pane: with 100,000 keys almost every access misses the CPU caches,
// and summing a window's counts then reads one or two cache lines instead
// of one object per pane.

import { WindowEndQueue } from './window-end-queue.ts';
import { DecimalSum, divideRounded, type Units } from './decimal.ts';
import { firstWindowEnd, lastWindowStart, nextWindowEndAfter, type WindowSpec } from './windows.ts';

export type PaneAggregate = 'count' | 'mean';

export interface PaneWindowOptions {
  window: WindowSpec;
  /** `count`: the number of events. `mean`: the exact mean of the values, rounded half away from zero to `digits`. */
  aggregate: PaneAggregate;
  /** Decimals of a mean; ignored for counts. */
  digits: number;
  /** How many categories of events are also counted apart (lb-summary's get_success, ...); 0 for none. */
  categories?: number;
  /**
   * Windows with fewer events are not emitted (default 1). A threshold rule
   * (`count > 10`) passes its bound here, so the many quiet windows of
   * sparse keys are neither built nor visited one by one.
   */
  minCount?: number;
}

export interface PaneWindowResult {
  key: string;
  start: number;
  end: number;
  /** Events in the window. */
  count: number;
  /** The count, or the mean as units at `digits` decimals. */
  value: Units;
  /** Events per category (empty when the operator counts none). */
  categories: readonly number[];
}

export type PaneEmit = (result: PaneWindowResult) => void;

/** 0: accepted (maybe missing windows already closed: see partlyLateCount); 1: late, every window closed. */
export type PaneAddOutcome = 0 | 1;

/**
 * Mean sums are kept as plain integers at FAST_SCALE decimals while every
 * value fits exactly (request times in microseconds, latencies in ms); a
 * pane that sees a value with more decimals or a huge magnitude switches to
 * an exact DecimalSum.
 */
const FAST_SCALE = 6;
const FAST_POW = [1e6, 1e5, 1e4, 1e3, 100, 10, 1];
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Shared by every result of an operator without categories: one allocation fewer per window. */
const NO_CATEGORIES: readonly number[] = Object.freeze([]);

function toFast(units: Units, scale: number): number {
  if (typeof units !== 'number' || scale > FAST_SCALE || scale < 0) return Number.NaN;
  const v = units * FAST_POW[scale]!;
  return Number.isSafeInteger(v) ? v : Number.NaN;
}

/** The panes of one key, ascending by start, as parallel arrays. */
class KeyState {
  readonly key: string;
  starts: number[];
  counts: number[];
  /** Sum of a mean's values per pane at FAST_SCALE; NaN where the pane's sum is kept in `exact`. */
  sums: number[] | null;
  /** Exact sums of the panes whose values left the fast range; created on first need. */
  exact: Array<DecimalSum | null> | null = null;
  /** Category counts, `categories` per pane, flattened. */
  categoryCounts: number[] | null;
  /** End of the window this key is queued to close; NaN when not queued. */
  nextEnd = Number.NaN;
  /**
   * A key that comes with its first event: its first pane is made here, in
   * arrays of one element (with 100,000 sparse keys most never get a second
   * pane, and an array grown from empty by push reserves 17).
   */
  constructor(key: string, mean: boolean, categories: number, firstStart: number) {
    this.key = key;
    this.starts = [firstStart];
    this.counts = [0];
    this.sums = mean ? [0] : null;
    this.categoryCounts = categories > 0 ? new Array<number>(categories).fill(0) : null;
  }

  /** Index of the pane starting at `start`, inserted (empty) if new; appending is the common case. */
  paneIndex(start: number, categories: number): number {
    const starts = this.starts;
    const n = starts.length;
    let at = n;
    if (n > 0 && starts[n - 1]! >= start) {
      if (starts[n - 1] === start) return n - 1;
      let lo = 0;
      let hi = n - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const s = starts[mid]!;
        if (s === start) return mid;
        if (s < start) lo = mid + 1;
        else hi = mid - 1;
      }
      at = lo;
    }
    if (at === n) {
      starts.push(start);
      this.counts.push(0);
      this.sums?.push(0);
      this.exact?.push(null);
      if (this.categoryCounts !== null) for (let c = 0; c < categories; c++) this.categoryCounts.push(0);
    } else {
      starts.splice(at, 0, start);
      this.counts.splice(at, 0, 0);
      this.sums?.splice(at, 0, 0);
      this.exact?.splice(at, 0, null);
      this.categoryCounts?.splice(at * categories, 0, ...new Array<number>(categories).fill(0));
    }
    return at;
  }

  /** Adds a mean's value to pane i. */
  addValue(i: number, units: Units, scale: number): void {
    const sums = this.sums!;
    const current = sums[i]!;
    if (current === current) {
      const sum = current + toFast(units, scale);
      // NaN (a value kept exactly) fails this test too.
      if (Math.abs(sum) <= MAX_SAFE) {
        sums[i] = sum;
        return;
      }
      const moved = new DecimalSum();
      moved.add(current, FAST_SCALE);
      this.exact ??= new Array<DecimalSum | null>(sums.length).fill(null);
      this.exact[i] = moved;
      sums[i] = Number.NaN;
    }
    this.exact![i]!.add(units, scale);
  }

  /** Removes the first `n` panes. */
  dropFirst(n: number, categories: number): void {
    if (n === this.starts.length) {
      this.starts.length = 0;
      this.counts.length = 0;
      if (this.sums !== null) this.sums.length = 0;
      this.exact = null;
      if (this.categoryCounts !== null) this.categoryCounts.length = 0;
      return;
    }
    if (n === 1) {
      // shift() moves an array's start in place; splice would allocate the removed part.
      this.starts.shift();
      this.counts.shift();
      this.sums?.shift();
      this.exact?.shift();
    } else {
      this.starts.splice(0, n);
      this.counts.splice(0, n);
      this.sums?.splice(0, n);
      this.exact?.splice(0, n);
    }
    this.categoryCounts?.splice(0, n * categories);
  }
}

/** [start, count, sum units as text, sum scale, category counts]. */
export type PaneSnapshot = [number, number, string, number, number[]];

export interface PaneWindowSnapshot {
  watermark: number;
  lateCount: number;
  partlyLateCount: number;
  keys: Array<{ key: string; panes: PaneSnapshot[] }>;
}

export class PaneWindows {
  private readonly options: PaneWindowOptions;
  private readonly spec: WindowSpec;
  private readonly mean: boolean;
  private readonly categoryCount: number;
  private readonly minCount: number;
  private readonly keys = new Map<string, KeyState>();
  private readonly queue = new WindowEndQueue<KeyState>();
  private readonly scratch = new DecimalSum();
  private current = Number.NEGATIVE_INFINITY;
  /** Events that arrived after every window they belong to had closed. */
  lateCount = 0;
  /** Accepted events that missed some (not all) of their windows. */
  partlyLateCount = 0;
  /** Windows computed so far, emitted or not: the work done, for tests and benchmarks. */
  windowsVisited = 0;

  constructor(options: PaneWindowOptions) {
    this.options = options;
    this.spec = options.window;
    this.mean = options.aggregate === 'mean';
    this.categoryCount = options.categories ?? 0;
    this.minCount = Math.max(1, options.minCount ?? 1);
  }

  get watermark(): number {
    return this.current;
  }

  /** Keys holding at least one pane. */
  get keyCount(): number {
    return this.keys.size;
  }

  /** Panes held: the operator's state size (walks every key; for tests and diagnostics). */
  get openPanes(): number {
    let n = 0;
    for (const state of this.keys.values()) n += state.starts.length;
    return n;
  }

  /**
   * Adds one event of `key` at instant t. For a mean, its value is
   * units/10^scale; `category` (0 .. categories-1, or -1) is counted apart.
   */
  add(key: string, t: number, units: Units = 0, scale = 0, category = -1): PaneAddOutcome {
    const spec = this.spec;
    const watermark = this.current;
    // The pane of t starts the latest window holding t and ends the earliest
    // one (lastWindowStart, lastWindowEnd and firstWindowEnd, computed once).
    const paneStart = lastWindowStart(spec, t);
    if (paneStart + spec.size <= watermark) {
      this.lateCount++;
      return 1;
    }
    const end = paneStart + spec.slide;
    if (end <= watermark) this.partlyLateCount++;
    let state = this.keys.get(key);
    let i = 0;
    if (state === undefined) {
      state = new KeyState(key, this.mean, this.categoryCount, paneStart);
      this.keys.set(key, state);
    } else {
      i = state.paneIndex(paneStart, this.categoryCount);
    }
    state.counts[i]!++;
    if (this.mean) state.addValue(i, units, scale);
    if (category >= 0 && category < this.categoryCount) state.categoryCounts![i * this.categoryCount + category]!++;
    this.queue.schedule(state, end > watermark ? end : nextWindowEndAfter(spec, watermark));
    return 0;
  }

  /** Moves the watermark forward and emits every window whose end it reaches. */
  advanceTo(watermark: number, emit: PaneEmit): void {
    if (!(watermark > this.current)) return;
    this.current = watermark;
    this.queue.drainUpTo(watermark, (state, end) => this.closeWindow(state, end, emit));
  }

  /** End of input: emits every open window. */
  flush(emit: PaneEmit): void {
    this.advanceTo(Number.POSITIVE_INFINITY, emit);
  }

  private closeWindow(state: KeyState, end: number, emit: PaneEmit): void {
    this.windowsVisited++;
    const spec = this.spec;
    const start = end - spec.size;
    const { starts, counts } = state;
    const n = starts.length;
    let first = 0;
    while (first < n && starts[first]! < start) first++;
    let last = first;
    let count = 0;
    while (last < n && starts[last]! < end) count += counts[last++]!;
    if (count > 0 && count >= this.minCount) {
      const value: Units = this.mean ? this.meanOf(state, first, last, count) : count;
      let categories: readonly number[] = NO_CATEGORIES;
      const perPane = this.categoryCount;
      if (perPane > 0) {
        const flat = state.categoryCounts!;
        const sums = new Array<number>(perPane).fill(0);
        for (let i = first * perPane; i < last * perPane; i += perPane) {
          for (let c = 0; c < perPane; c++) sums[c]! += flat[i + c]!;
        }
        categories = sums;
      }
      emit({ key: state.key, start, end, count, value, categories });
    }
    // Panes before the next window's start are behind every open window.
    const nextStart = start + spec.slide;
    let drop = first;
    while (drop < n && starts[drop]! < nextStart) drop++;
    if (drop > 0) state.dropFirst(drop, this.categoryCount);
    if (starts.length === 0) {
      this.keys.delete(state.key);
      return;
    }
    const next = Math.max(end + spec.slide, starts[0]! + spec.slide);
    this.queue.schedule(state, this.minCount > 1 ? this.nextEmittedEnd(state, next) : next);
  }

  /**
   * The end of the first window, ending at `from` or later, that holds at
   * least minCount of the key's events as they stand; if none does, the end
   * of the last window holding any (closing it drops them all). Windows in
   * between are skipped, which matters when a long allowed lateness keeps
   * minutes of sparse panes. A new event schedules its own first window, so
   * a window it lifts over the bound is not missed.
   */
  private nextEmittedEnd(state: KeyState, from: number): number {
    const { size, slide } = this.spec;
    const { starts, counts } = state;
    const n = starts.length;
    let sum = 0;
    let lo = 0;
    let hi = 0;
    // A window's count only rises when a pane enters it, so the first window
    // over the bound starts at `from - size` or where a pane enters.
    for (let w = from - size; ; ) {
      while (hi < n && starts[hi]! < w + size) sum += counts[hi++]!;
      while (lo < hi && starts[lo]! < w) sum -= counts[lo++]!;
      if (sum >= this.minCount) return w + size;
      if (hi >= n) return Math.max(from, starts[n - 1]! + size);
      w = Math.max(w + slide, starts[hi]! - size + slide);
    }
  }

  /** The mean over panes [first, last): plain integers while they stay exact, else DecimalSum. */
  private meanOf(state: KeyState, first: number, last: number, count: number): Units {
    const sums = state.sums!;
    let fast = 0;
    let exact = false;
    for (let i = first; i < last; i++) {
      fast += sums[i]!;
      // NaN (an exact pane) and sums beyond 2^53 both fail this test.
      if (!(Math.abs(fast) <= MAX_SAFE)) {
        exact = true;
        break;
      }
    }
    if (!exact) return divideRounded(fast, FAST_SCALE, count, this.options.digits);
    const sum = this.scratch;
    sum.reset();
    for (let i = first; i < last; i++) {
      const paneExact = state.exact?.[i] ?? null;
      if (paneExact !== null) sum.add(paneExact.units, paneExact.scale);
      else sum.add(sums[i]!, FAST_SCALE);
    }
    return divideRounded(sum.units, sum.scale, count, this.options.digits);
  }

  snapshot(): PaneWindowSnapshot {
    const keys: PaneWindowSnapshot['keys'] = [];
    const perPane = this.categoryCount;
    for (const state of this.keys.values()) {
      const panes: PaneSnapshot[] = [];
      for (let i = 0; i < state.starts.length; i++) {
        const exact = state.exact?.[i] ?? null;
        const fast = state.sums?.[i] ?? 0;
        panes.push([
          state.starts[i]!,
          state.counts[i]!,
          String(exact === null ? fast : exact.units),
          exact === null ? FAST_SCALE : exact.scale,
          state.categoryCounts === null ? [] : state.categoryCounts.slice(i * perPane, (i + 1) * perPane),
        ]);
      }
      keys.push({ key: state.key, panes });
    }
    return { watermark: this.current, lateCount: this.lateCount, partlyLateCount: this.partlyLateCount, keys };
  }

  restore(snapshot: PaneWindowSnapshot): void {
    this.keys.clear();
    this.queue.clear();
    // JSON turns -Infinity into null.
    this.current = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    this.lateCount = snapshot.lateCount ?? 0;
    this.partlyLateCount = snapshot.partlyLateCount ?? 0;
    const perPane = this.categoryCount;
    for (const saved of snapshot.keys) {
      if (saved.panes.length === 0) continue;
      const state = new KeyState(saved.key, this.mean, perPane, saved.panes[0]![0]);
      for (const [start, count, unitsText, scale, categories] of saved.panes) {
        const i = state.paneIndex(start, perPane);
        state.counts[i] = count;
        if (this.mean) {
          const n = Number(unitsText);
          state.addValue(i, Number.isSafeInteger(n) ? n : BigInt(unitsText), scale);
        }
        for (let c = 0; c < perPane; c++) state.categoryCounts![i * perPane + c] = categories[c] ?? 0;
      }
      this.keys.set(saved.key, state);
      const firstEnd = firstWindowEnd(this.spec, state.starts[0]!);
      this.queue.schedule(state, firstEnd > this.current ? firstEnd : nextWindowEndAfter(this.spec, this.current));
    }
  }
}
