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

import { DecimalSum, divideRounded, type Units } from './decimal.ts';
import { MinHeap } from './min-heap.ts';
import { firstWindowEnd, lastWindowEnd, lastWindowStart, nextWindowEndAfter, type WindowSpec } from './windows.ts';

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

class Pane {
  readonly start: number;
  count = 0;
  /** Sum of the values at FAST_SCALE, while `exact` is null. */
  fast = 0;
  exact: DecimalSum | null = null;
  categories: number[] | null;
  constructor(start: number, categories: number) {
    this.start = start;
    this.categories = categories > 0 ? new Array<number>(categories).fill(0) : null;
  }

  addValue(units: Units, scale: number): void {
    const exact = this.exact;
    if (exact !== null) {
      exact.add(units, scale);
      return;
    }
    const f = toFast(units, scale);
    const sum = this.fast + f;
    // NaN (a value kept exactly) fails this test too.
    if (Math.abs(sum) <= MAX_SAFE) {
      this.fast = sum;
      return;
    }
    const moved = new DecimalSum();
    moved.add(this.fast, FAST_SCALE);
    moved.add(units, scale);
    this.exact = moved;
  }
}

class KeyState {
  readonly key: string;
  /** Panes still inside an open window, ascending by start. */
  panes: Pane[] = [];
  /** End of the window this key is queued to close; NaN when not queued. */
  nextEnd = Number.NaN;
  constructor(key: string) {
    this.key = key;
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
  private readonly queue = new Map<number, KeyState[]>();
  private readonly queueTimes = new MinHeap();
  private readonly scratch = new DecimalSum();
  private current = Number.NEGATIVE_INFINITY;
  /** Events that arrived after every window they belong to had closed. */
  lateCount = 0;
  /** Accepted events that missed some (not all) of their windows. */
  partlyLateCount = 0;

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
    for (const state of this.keys.values()) n += state.panes.length;
    return n;
  }

  /**
   * Adds one event of `key` at instant t. For a mean, its value is
   * units/10^scale; `category` (0 .. categories-1, or -1) is counted apart.
   */
  add(key: string, t: number, units: Units = 0, scale = 0, category = -1): PaneAddOutcome {
    const spec = this.spec;
    const watermark = this.current;
    if (lastWindowEnd(spec, t) <= watermark) {
      this.lateCount++;
      return 1;
    }
    if (firstWindowEnd(spec, t) <= watermark) this.partlyLateCount++;
    let state = this.keys.get(key);
    if (state === undefined) {
      state = new KeyState(key);
      this.keys.set(key, state);
    }
    const paneStart = lastWindowStart(spec, t);
    const pane = this.paneFor(state.panes, paneStart);
    pane.count++;
    if (this.mean) pane.addValue(units, scale);
    if (category >= 0 && pane.categories !== null && category < pane.categories.length) pane.categories[category]!++;
    const end = paneStart + spec.slide;
    this.schedule(state, end > watermark ? end : nextWindowEndAfter(spec, watermark));
    return 0;
  }

  /** Moves the watermark forward and emits every window whose end it reaches. */
  advanceTo(watermark: number, emit: PaneEmit): void {
    if (!(watermark > this.current)) return;
    this.current = watermark;
    const times = this.queueTimes;
    while (times.size > 0 && times.peek()! <= watermark) {
      const end = times.pop()!;
      const states = this.queue.get(end)!;
      this.queue.delete(end);
      for (const state of states) {
        // A key re-queued earlier than this entry left a stale one behind.
        if (state.nextEnd !== end) continue;
        state.nextEnd = Number.NaN;
        this.closeWindow(state, end, emit);
      }
    }
  }

  /** End of input: emits every open window. */
  flush(emit: PaneEmit): void {
    this.advanceTo(Number.POSITIVE_INFINITY, emit);
  }

  private paneFor(panes: Pane[], start: number): Pane {
    const n = panes.length;
    if (n > 0) {
      const last = panes[n - 1]!;
      if (last.start === start) return last;
      if (last.start > start) {
        let lo = 0;
        let hi = n - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const s = panes[mid]!.start;
          if (s === start) return panes[mid]!;
          if (s < start) lo = mid + 1;
          else hi = mid - 1;
        }
        const pane = new Pane(start, this.categoryCount);
        panes.splice(lo, 0, pane);
        return pane;
      }
    }
    const pane = new Pane(start, this.categoryCount);
    panes.push(pane);
    return pane;
  }

  private schedule(state: KeyState, end: number): void {
    if (!(end >= state.nextEnd)) {
      state.nextEnd = end;
      const bucket = this.queue.get(end);
      if (bucket === undefined) {
        this.queue.set(end, [state]);
        this.queueTimes.push(end);
      } else {
        bucket.push(state);
      }
    }
  }

  private closeWindow(state: KeyState, end: number, emit: PaneEmit): void {
    const spec = this.spec;
    const start = end - spec.size;
    const panes = state.panes;
    let first = 0;
    while (first < panes.length && panes[first]!.start < start) first++;
    let last = first;
    let count = 0;
    let fast = 0;
    let exact = false;
    for (; last < panes.length; last++) {
      const pane = panes[last]!;
      if (pane.start >= end) break;
      count += pane.count;
      if (pane.exact !== null) exact = true;
      else {
        fast += pane.fast;
        if (Math.abs(fast) > MAX_SAFE) exact = true;
      }
    }
    if (count > 0 && count >= this.minCount) {
      let value: Units = count;
      if (this.mean) value = exact ? this.exactMean(panes, first, last, count) : divideRounded(fast, FAST_SCALE, count, this.options.digits);
      let categories: readonly number[] = NO_CATEGORIES;
      if (this.categoryCount > 0) {
        const sums = new Array<number>(this.categoryCount).fill(0);
        for (let i = first; i < last; i++) {
          const counts = panes[i]!.categories!;
          for (let c = 0; c < counts.length; c++) sums[c]! += counts[c]!;
        }
        categories = sums;
      }
      emit({ key: state.key, start, end, count, value, categories });
    }
    // Panes before the next window's start are behind every open window.
    const nextStart = start + spec.slide;
    let drop = first;
    while (drop < panes.length && panes[drop]!.start < nextStart) drop++;
    if (drop === panes.length) panes.length = 0;
    // shift() moves the array's start in place; splice would allocate the removed part.
    else if (drop <= 4) for (let i = 0; i < drop; i++) panes.shift();
    else panes.splice(0, drop);
    if (panes.length > 0) {
      let next = Math.max(end + spec.slide, panes[0]!.start + spec.slide);
      if (this.minCount > 1) {
        let held = 0;
        for (const pane of panes) held += pane.count;
        // Too few events for any window to be emitted: wait for the last
        // window that holds them (which drops them all) unless a new event
        // of this key schedules an earlier end.
        if (held < this.minCount) next = Math.max(next, panes[panes.length - 1]!.start + spec.size);
      }
      this.schedule(state, next);
    } else {
      this.keys.delete(state.key);
    }
  }

  private exactMean(panes: Pane[], first: number, last: number, count: number): Units {
    const sum = this.scratch;
    sum.reset();
    for (let i = first; i < last; i++) {
      const pane = panes[i]!;
      if (pane.exact !== null) sum.add(pane.exact.units, pane.exact.scale);
      else sum.add(pane.fast, FAST_SCALE);
    }
    return divideRounded(sum.units, sum.scale, count, this.options.digits);
  }

  snapshot(): PaneWindowSnapshot {
    const keys: PaneWindowSnapshot['keys'] = [];
    for (const state of this.keys.values()) {
      keys.push({
        key: state.key,
        panes: state.panes.map((p): PaneSnapshot => [
          p.start,
          p.count,
          String(p.exact === null ? p.fast : p.exact.units),
          p.exact === null ? FAST_SCALE : p.exact.scale,
          p.categories === null ? [] : [...p.categories],
        ]),
      });
    }
    return { watermark: this.current, lateCount: this.lateCount, partlyLateCount: this.partlyLateCount, keys };
  }

  restore(snapshot: PaneWindowSnapshot): void {
    this.keys.clear();
    this.queue.clear();
    while (this.queueTimes.size > 0) this.queueTimes.pop();
    // JSON turns -Infinity into null.
    this.current = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    this.lateCount = snapshot.lateCount ?? 0;
    this.partlyLateCount = snapshot.partlyLateCount ?? 0;
    for (const saved of snapshot.keys) {
      const state = new KeyState(saved.key);
      for (const [start, count, unitsText, scale, categories] of saved.panes) {
        const pane = new Pane(start, this.categoryCount);
        pane.count = count;
        const n = Number(unitsText);
        const units: Units = Number.isSafeInteger(n) ? n : BigInt(unitsText);
        const fast = toFast(units, scale);
        if (scale === FAST_SCALE && fast === fast) pane.fast = fast;
        else {
          pane.exact = new DecimalSum();
          pane.exact.add(units, scale);
        }
        if (pane.categories !== null) for (let c = 0; c < pane.categories.length; c++) pane.categories[c] = categories[c] ?? 0;
        state.panes.push(pane);
      }
      if (state.panes.length === 0) continue;
      this.keys.set(saved.key, state);
      const firstEnd = firstWindowEnd(this.spec, state.panes[0]!.start);
      this.schedule(state, firstEnd > this.current ? firstEnd : nextWindowEndAfter(this.spec, this.current));
    }
  }
}
