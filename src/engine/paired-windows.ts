// Windowed inner join of two metrics per key (server), as the cpu-mem and
// net-disk jobs need: one value per (key, instant) and side, a later record
// replacing an earlier one while its windows are open; only instants that
// have both sides count. Each window is aggregated and emitted once, when
// the watermark passes its end.
//
// State is bounded by the open windows: per key, the instants not yet behind
// every open window. Keys wait in a queue ordered by the end of the next
// window they must close, so advancing the watermark touches only the keys
// that have a window to close.

import { WindowEndQueue } from './window-end-queue.ts';
import { DecimalSum, compareDecimal, divideRounded, roundedQuotient, roundUnits, type Decimal, type Units } from './decimal.ts';
import { firstWindowEnd, lastWindowStart, nextWindowEndAfter, type WindowSpec } from './windows.ts';

export type SideAggregate = 'mean' | 'max';

export interface PairedWindowOptions {
  window: WindowSpec;
  aggregates: readonly [SideAggregate, SideAggregate];
  /** Decimals the aggregates are rounded to (half away from zero). */
  digits: number;
  /** SEMANTICS.md `--trim-leading`: skip windows that start before the key's first joined instant, floored to the slide. */
  trimLeading: boolean;
}

export interface PairedWindowResult {
  key: string;
  start: number;
  end: number;
  /** Aggregates of side 0 and side 1, as units at `digits` decimals. */
  value0: Units;
  value1: Units;
  /** Joined instants in the window. */
  count: number;
  /** The number given to the key's handle (see `handle`), -1 for none. */
  keyNumber: number;
}

/** Receives each window's result; the object is reused for the next window, so it must not be kept. */
export type Emit = (result: PairedWindowResult) => void;

export type AddOutcome = 0 | 1;

/** A key's state, as `PairedWindows.handle` gives it out (opaque to callers). */
export interface KeyHandle {
  readonly key: string;
}

/**
 * Values are kept as integers at a fixed scale (FAST_SCALE decimals) when
 * they fit exactly, so the common case sums plain numbers. A value with more
 * decimals or a huge magnitude is NaN there and keeps its exact units in the
 * key's `exact` map.
 */
const FAST_SCALE = 4;
const FAST_POW = [10000, 1000, 100, 10, 1];
const INITIAL_SLOTS = 16;

function toFast(units: Units, scale: number): number {
  if (typeof units !== 'number' || scale > FAST_SCALE) return Number.NaN;
  const v = units * FAST_POW[scale]!;
  return Number.isSafeInteger(v) && Math.abs(v) < 2 ** 40 ? v : Number.NaN;
}

/**
 * divideRounded(sum, FAST_SCALE, count, digits) for the usual case, without
 * its general steps: a sum of small non-negative values to a scale at or
 * below FAST_SCALE (count <= 8192, so sum * 2 + divisor stays safe).
 */
function meanOf(sum: number, count: number, digits: number): Units {
  if (!(sum >= 0 && sum < 2 ** 50) || digits > FAST_SCALE) return divideRounded(sum, FAST_SCALE, count, digits);
  return roundedQuotient(sum, count * FAST_POW[digits]!);
}

/** Exact values of one instant whose fast value is NaN (null for a side kept fast). */
interface ExactPair {
  side0: Decimal | null;
  side1: Decimal | null;
}

/**
 * One key's instants still inside an open window, ascending, in one typed
 * array: slot i is slots[4i .. 4i+3] = (instant, fast0, fast1, mask) for
 * head <= i < length. Not an object per instant (adding a row allocates
 * nothing) and one slot's fields share a cache line.
 */
class KeyState {
  readonly key: string;
  slots = new Float64Array(INITIAL_SLOTS * SLOT);
  /** Slots before this index are dropped. */
  head = 0;
  length = 0;
  /** Exact values by instant, for slots holding a NaN fast value. */
  exact: Map<number, ExactPair> | null = null;
  firstJoined = Number.POSITIVE_INFINITY;
  /** End of the window this key is queued to close; NaN when not queued. */
  nextEnd = Number.NaN;
  /** Dropped from the keys (it held nothing): a handle to it must register it again. */
  detached = false;
  /** The number its handle was given (results carry it), -1 for none. */
  number = -1;
  constructor(key: string) {
    this.key = key;
  }

  time(i: number): number {
    return this.slots[i * SLOT]!;
  }

  mask(i: number): number {
    return this.slots[i * SLOT + MASK]!;
  }

  /** Index of the slot for instant t, inserted (empty) if new; appending is the common case. */
  slotFor(t: number): number {
    const n = this.length;
    const slots = this.slots;
    if (n === this.head || slots[(n - 1) * SLOT]! < t) {
      if (n * SLOT === slots.length) return this.makeRoom(n, t);
      const o = n * SLOT;
      slots[o] = t;
      slots[o + FAST0] = 0;
      slots[o + FAST1] = 0;
      slots[o + MASK] = 0;
      this.length = n + 1;
      return n;
    }
    let lo = this.head;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const mt = slots[mid * SLOT]!;
      if (mt === t) return mid;
      if (mt < t) lo = mid + 1;
      else hi = mid - 1;
    }
    return this.makeRoom(lo, t);
  }

  /** Inserts an empty slot for t at index `at`, compacting or growing the array when full. */
  private makeRoom(at: number, t: number): number {
    const { head, length } = this;
    let slots = this.slots;
    if (length * SLOT === slots.length) {
      const live = length - head;
      if (live * 2 >= length) {
        const grown = new Float64Array(slots.length * 2);
        grown.set(slots.subarray(head * SLOT, length * SLOT));
        slots = grown;
        this.slots = grown;
      } else {
        // Few live slots: move them to the front (a loop: a short copyWithin costs more).
        for (let i = 0, from = head * SLOT; i < live * SLOT; i++) slots[i] = slots[from + i]!;
      }
      at -= head;
      this.length = live;
      this.head = 0;
    }
    const n = this.length;
    for (let i = n * SLOT - 1; i >= at * SLOT; i--) slots[i + SLOT] = slots[i]!;
    const o = at * SLOT;
    slots[o] = t;
    slots[o + FAST0] = 0;
    slots[o + FAST1] = 0;
    slots[o + MASK] = 0;
    this.length = n + 1;
    return at;
  }

  /** Drops the slots before index `drop`. */
  dropBefore(drop: number): void {
    if (this.exact !== null) {
      for (let i = this.head; i < drop; i++) this.exact.delete(this.time(i));
      if (this.exact.size === 0) this.exact = null;
    }
    if (drop >= this.length) {
      this.head = 0;
      this.length = 0;
    } else {
      this.head = drop;
    }
  }

  /** Sets one side's value at slot i. */
  set(i: number, side: 0 | 1, units: Units, scale: number): void {
    const fast = toFast(units, scale);
    const o = i * SLOT;
    const slots = this.slots;
    slots[o + FAST0 + side] = fast;
    slots[o + MASK] = slots[o + MASK]! | (side === 0 ? 1 : 2);
    if (fast === fast) {
      if (this.exact === null) return;
      const pair = this.exact.get(slots[o]!);
      if (pair !== undefined) {
        if (side === 0) pair.side0 = null;
        else pair.side1 = null;
      }
      return;
    }
    this.exact ??= new Map();
    const t = slots[o]!;
    let pair = this.exact.get(t);
    if (pair === undefined) {
      pair = { side0: null, side1: null };
      this.exact.set(t, pair);
    }
    if (side === 0) pair.side0 = { units, scale };
    else pair.side1 = { units, scale };
  }

  /** The exact value of one side at slot i. */
  exactAt(i: number, side: 0 | 1): Decimal {
    const fast = this.slots[i * SLOT + FAST0 + side]!;
    if (fast === fast) return { units: fast, scale: FAST_SCALE };
    const pair = this.exact!.get(this.time(i))!;
    return (side === 0 ? pair.side0 : pair.side1)!;
  }
}

/** Fields of a slot in KeyState.slots. */
const SLOT = 4;
const FAST0 = 1;
const FAST1 = 2;
/** Bit 1: side 0 present, bit 2: side 1 present. */
const MASK = 3;

type SlotSnapshot = [number, string, number, string, number, number];

export interface PairedWindowSnapshot {
  watermark: number;
  keys: Array<{ key: string; firstJoined: number | null; slots: SlotSnapshot[] }>;
}

export class PairedWindows {
  private readonly options: PairedWindowOptions;
  private readonly keys = new Map<string, KeyState>();
  private readonly queue = new WindowEndQueue<KeyState>();
  private readonly sum0 = new DecimalSum();
  private readonly result: PairedWindowResult = { key: '', start: 0, end: 0, value0: 0, value1: 0, count: 0, keyNumber: -1 };
  /** Both sides are means: closing a window need not track maxima. */
  private readonly meansOnly: boolean;
  private current = Number.NEGATIVE_INFINITY;
  /** Records that arrived after every window they belong to had closed. */
  lateCount = 0;
  /** Accepted records that missed some (not all) of their windows. */
  partlyLateCount = 0;

  constructor(options: PairedWindowOptions) {
    this.options = options;
    this.meansOnly = options.aggregates[0] === 'mean' && options.aggregates[1] === 'mean';
  }

  get watermark(): number {
    return this.current;
  }

  /** Number of (key, instant) slots held: the operator's state size. */
  get openSlots(): number {
    let n = 0;
    for (const state of this.keys.values()) n += state.length - state.head;
    return n;
  }

  /**
   * A handle on `key`'s state, to add its records with `addTo`/`addPairTo`
   * without looking the key up by name each time (a batch job knows its
   * keys by number). Results of the key carry `number` (say, its index
   * in the caller's own tables).
   */
  handle(key: string, number = -1): KeyHandle {
    const state = this.stateOf(key);
    state.number = number;
    return state;
  }

  /** Adds the value of one side at (key, instant t). */
  add(key: string, side: 0 | 1, t: number, units: Units, scale: number): AddOutcome {
    return this.addTo(this.stateOf(key), side, t, units, scale);
  }

  /** `add` for the key of a handle. */
  addTo(handle: KeyHandle, side: 0 | 1, t: number, units: Units, scale: number): AddOutcome {
    const state = this.accept(handle as KeyState, t, 1);
    if (state === null) return 1;
    const i = state.slotFor(t);
    state.set(i, side, units, scale);
    if (state.mask(i) === 3 && t < state.firstJoined) state.firstJoined = t;
    return 0;
  }

  /** Adds both sides' values at (key, instant t): the same as `add` for side 0, then for side 1. */
  addPair(key: string, t: number, units0: Units, scale0: number, units1: Units, scale1: number): AddOutcome {
    return this.addPairTo(this.stateOf(key), t, units0, scale0, units1, scale1);
  }

  /** `addPair` for the key of a handle. */
  addPairTo(handle: KeyHandle, t: number, units0: Units, scale0: number, units1: Units, scale1: number): AddOutcome {
    const state = this.accept(handle as KeyState, t, 2);
    if (state === null) return 1;
    const i = state.slotFor(t);
    const fast0 = toFast(units0, scale0);
    const fast1 = toFast(units1, scale1);
    if (fast0 === fast0 && fast1 === fast1 && state.exact === null) {
      // The common case, without `set`'s bookkeeping of exact values.
      const o = i * SLOT;
      state.slots[o + FAST0] = fast0;
      state.slots[o + FAST1] = fast1;
      state.slots[o + MASK] = 3;
    } else {
      state.set(i, 0, units0, scale0);
      state.set(i, 1, units1, scale1);
    }
    if (t < state.firstJoined) state.firstJoined = t;
    return 0;
  }

  private stateOf(key: string): KeyState {
    let state = this.keys.get(key);
    if (state === undefined) {
      state = new KeyState(key);
      this.keys.set(key, state);
    }
    return state;
  }

  /**
   * `state` for a record at t, queued to close its next window; null (and
   * counted `records` times) when every window of t has closed.
   */
  private accept(state: KeyState, t: number, records: number): KeyState | null {
    const spec = this.options.window;
    const watermark = this.current;
    const lastStart = Math.floor(t / spec.slide) * spec.slide;
    if (lastStart + spec.size <= watermark) {
      this.lateCount += records;
      return null;
    }
    const firstEnd = lastStart + spec.slide;
    if (firstEnd <= watermark) this.partlyLateCount += records;
    if (state.detached) {
      state.detached = false;
      this.keys.set(state.key, state);
    }
    // Already queued for a window ending no later than t's first: nothing to do.
    if (!(state.nextEnd <= firstEnd)) this.queue.schedule(state, Math.max(firstEnd, nextWindowEndAfter(spec, watermark)));
    return state;
  }

  /** Moves the watermark forward and emits every window whose end it reaches. */
  advanceTo(watermark: number, emit: Emit): void {
    if (!(watermark > this.current)) return;
    this.current = watermark;
    this.queue.drainUpTo(watermark, (state, end) => this.closeWindow(state, end, emit));
  }

  /** End of input: emits every open window. */
  flush(emit: Emit): void {
    this.advanceTo(Number.POSITIVE_INFINITY, emit);
  }

  private closeWindow(state: KeyState, end: number, emit: Emit): void {
    const { window: spec, digits, trimLeading } = this.options;
    const start = end - spec.size;
    const slots = state.slots;
    const length = state.length;
    let first = state.head;
    while (first < length && slots[first * SLOT]! < start) first++;
    let last = first;
    let count = 0;
    let exact = false;
    let sum0 = 0;
    let sum1 = 0;
    let max0 = Number.NEGATIVE_INFINITY;
    let max1 = Number.NEGATIVE_INFINITY;
    if (this.meansOnly) {
      for (let o = first * SLOT; last < length; last++, o += SLOT) {
        if (slots[o]! >= end) break;
        if (slots[o + MASK] !== 3) continue;
        count++;
        sum0 += slots[o + FAST0]!;
        sum1 += slots[o + FAST1]!;
      }
      // NaN marks a value kept exactly (and makes the sum NaN): the window takes the exact path.
      if (sum0 !== sum0 || sum1 !== sum1) exact = true;
    } else {
      for (let o = first * SLOT; last < length; last++, o += SLOT) {
        if (slots[o]! >= end) break;
        if (slots[o + MASK] !== 3) continue;
        count++;
        const a = slots[o + FAST0]!;
        const b = slots[o + FAST1]!;
        if (a !== a || b !== b) exact = true;
        sum0 += a;
        sum1 += b;
        if (a > max0) max0 = a;
        if (b > max1) max1 = b;
      }
    }
    if (count > 0 && !(trimLeading && start < lastWindowStart(spec, state.firstJoined))) {
      let value0: Units;
      let value1: Units;
      if (!exact && count <= 8192 && Math.abs(sum0) <= Number.MAX_SAFE_INTEGER && Math.abs(sum1) <= Number.MAX_SAFE_INTEGER) {
        const [agg0, agg1] = this.options.aggregates;
        value0 = agg0 === 'mean' ? meanOf(sum0, count, digits) : roundUnits(max0, FAST_SCALE, digits);
        value1 = agg1 === 'mean' ? meanOf(sum1, count, digits) : roundUnits(max1, FAST_SCALE, digits);
      } else {
        value0 = this.exactAggregate(state, first, last, 0);
        value1 = this.exactAggregate(state, first, last, 1);
      }
      // One result object, filled anew for each window: `emit` reads it before returning.
      const result = this.result;
      result.key = state.key;
      result.start = start;
      result.end = end;
      result.value0 = value0;
      result.value1 = value1;
      result.count = count;
      result.keyNumber = state.number;
      emit(result);
    }
    // Instants before the next window's start are behind every open window.
    const nextStart = start + spec.slide;
    let drop = first;
    while (drop < length && slots[drop * SLOT]! < nextStart) drop++;
    state.dropBefore(drop);
    if (state.length > 0) this.queue.schedule(state, Math.max(end + spec.slide, firstWindowEnd(spec, state.time(state.head))));
    else if (!trimLeading) {
      this.keys.delete(state.key);
      state.detached = true;
    }
  }

  /** The aggregate of one side over the slots [first, last) in exact decimal arithmetic. */
  private exactAggregate(state: KeyState, first: number, last: number, side: 0 | 1): Units {
    const { digits } = this.options;
    const mean = this.options.aggregates[side] === 'mean';
    const sum = this.sum0;
    sum.reset();
    let maxUnits: Units = 0;
    let maxScale = -1;
    for (let i = first; i < last; i++) {
      if (state.mask(i) !== 3) continue;
      const { units, scale } = state.exactAt(i, side);
      if (mean) sum.add(units, scale);
      else if (maxScale < 0 || compareDecimal(units, scale, maxUnits, maxScale) > 0) {
        maxUnits = units;
        maxScale = scale;
      }
    }
    return mean ? sum.meanUnits(digits) : roundUnits(maxUnits, maxScale, digits);
  }

  snapshot(): PairedWindowSnapshot {
    const keys: PairedWindowSnapshot['keys'] = [];
    for (const state of this.keys.values()) {
      const slots: SlotSnapshot[] = [];
      for (let i = state.head; i < state.length; i++) {
        slots.push([state.time(i), ...exactOf(state.exactAt(i, 0)), ...exactOf(state.exactAt(i, 1)), state.mask(i)]);
      }
      keys.push({ key: state.key, firstJoined: Number.isFinite(state.firstJoined) ? state.firstJoined : null, slots });
    }
    return { watermark: this.current, keys };
  }

  restore(snapshot: PairedWindowSnapshot): void {
    this.keys.clear();
    this.queue.clear();
    this.current = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    const spec = this.options.window;
    for (const saved of snapshot.keys) {
      const state = new KeyState(saved.key);
      state.firstJoined = saved.firstJoined ?? Number.POSITIVE_INFINITY;
      for (const [t, u0, s0, u1, s1, mask] of saved.slots) {
        const i = state.slotFor(t);
        state.set(i, 0, toUnits(u0), s0);
        state.set(i, 1, toUnits(u1), s1);
        state.slots[i * SLOT + MASK] = mask;
      }
      this.keys.set(saved.key, state);
      if (state.length > 0) {
        this.queue.schedule(state, Math.max(firstWindowEnd(spec, state.time(state.head)), nextWindowEndAfter(spec, this.current)));
      }
    }
  }
}

function exactOf(value: Decimal): [string, number] {
  return [String(value.units), value.scale];
}

function toUnits(text: string): Units {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}
