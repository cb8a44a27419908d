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
import { DecimalSum, compareDecimal, divideRounded, roundUnits, type Decimal, type Units } from './decimal.ts';
import { firstWindowEnd, lastWindowEnd, lastWindowStart, nextWindowEndAfter, type WindowSpec } from './windows.ts';

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
}

export type Emit = (result: PairedWindowResult) => void;

export type AddOutcome = 0 | 1;

/**
 * Values are kept as integers at a fixed scale (FAST_SCALE decimals) when
 * they fit exactly, so the common case sums plain numbers. A value with more
 * decimals or a huge magnitude keeps its exact units in `exact0`/`exact1`.
 */
const FAST_SCALE = 4;
const FAST_POW = [10000, 1000, 100, 10, 1];

class Slot {
  t: number;
  fast0 = 0;
  fast1 = 0;
  exact0: Decimal | null = null;
  exact1: Decimal | null = null;
  mask = 0;
  constructor(t: number) {
    this.t = t;
  }
}

function toFast(units: Units, scale: number): number {
  if (typeof units !== 'number' || scale > FAST_SCALE) return Number.NaN;
  const v = units * FAST_POW[scale]!;
  return Number.isSafeInteger(v) && Math.abs(v) < 2 ** 40 ? v : Number.NaN;
}

class KeyState {
  readonly key: string;
  /** Instants still inside an open window, ascending. */
  slots: Slot[] = [];
  /** Slots before this index are dropped; compacted now and then instead of on every window. */
  head = 0;
  firstJoined = Number.POSITIVE_INFINITY;
  /** End of the window this key is queued to close; NaN when not queued. */
  nextEnd = Number.NaN;
  constructor(key: string) {
    this.key = key;
  }
}

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
  private current = Number.NEGATIVE_INFINITY;
  /** Records that arrived after every window they belong to had closed. */
  lateCount = 0;
  /** Accepted records that missed some (not all) of their windows. */
  partlyLateCount = 0;

  constructor(options: PairedWindowOptions) {
    this.options = options;
  }

  get watermark(): number {
    return this.current;
  }

  /** Number of (key, instant) slots held: the operator's state size. */
  get openSlots(): number {
    let n = 0;
    for (const state of this.keys.values()) n += state.slots.length - state.head;
    return n;
  }

  /** Adds the value of one side at (key, instant t). */
  add(key: string, side: 0 | 1, t: number, units: Units, scale: number): AddOutcome {
    const spec = this.options.window;
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
    const slot = findOrInsertSlot(state, t);
    const fast = toFast(units, scale);
    const exact = fast === fast ? null : { units, scale };
    if (side === 0) {
      slot.fast0 = fast;
      slot.exact0 = exact;
    } else {
      slot.fast1 = fast;
      slot.exact1 = exact;
    }
    slot.mask |= side === 0 ? 1 : 2;
    if (slot.mask === 3 && t < state.firstJoined) state.firstJoined = t;
    this.queue.schedule(state, Math.max(firstWindowEnd(spec, t), nextWindowEndAfter(spec, watermark)));
    return 0;
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
    let first = state.head;
    while (first < slots.length && slots[first]!.t < start) first++;
    let last = first;
    let count = 0;
    let exact = false;
    let sum0 = 0;
    let sum1 = 0;
    let max0 = Number.NEGATIVE_INFINITY;
    let max1 = Number.NEGATIVE_INFINITY;
    for (; last < slots.length; last++) {
      const slot = slots[last]!;
      if (slot.t >= end) break;
      if (slot.mask !== 3) continue;
      count++;
      const a = slot.fast0;
      const b = slot.fast1;
      // NaN marks a value kept exactly: the window takes the exact path.
      if (a !== a || b !== b) exact = true;
      sum0 += a;
      sum1 += b;
      if (a > max0) max0 = a;
      if (b > max1) max1 = b;
    }
    if (count > 0 && !(trimLeading && start < lastWindowStart(spec, state.firstJoined))) {
      let value0: Units;
      let value1: Units;
      if (!exact && count <= 8192 && Math.abs(sum0) <= Number.MAX_SAFE_INTEGER && Math.abs(sum1) <= Number.MAX_SAFE_INTEGER) {
        const [agg0, agg1] = this.options.aggregates;
        value0 = agg0 === 'mean' ? divideRounded(sum0, FAST_SCALE, count, digits) : roundUnits(max0, FAST_SCALE, digits);
        value1 = agg1 === 'mean' ? divideRounded(sum1, FAST_SCALE, count, digits) : roundUnits(max1, FAST_SCALE, digits);
      } else {
        value0 = this.exactAggregate(slots, first, last, 0);
        value1 = this.exactAggregate(slots, first, last, 1);
      }
      emit({ key: state.key, start, end, value0, value1, count });
    }
    // Instants before the next window's start are behind every open window.
    const nextStart = start + spec.slide;
    let drop = first;
    while (drop < slots.length && slots[drop]!.t < nextStart) drop++;
    if (drop === slots.length) {
      slots.length = 0;
      state.head = 0;
    } else if (drop > 32 && drop * 2 > slots.length) {
      slots.splice(0, drop);
      state.head = 0;
    } else {
      state.head = drop;
    }
    if (slots.length > 0) this.queue.schedule(state, Math.max(end + spec.slide, firstWindowEnd(spec, slots[state.head]!.t)));
    else if (!trimLeading) this.keys.delete(state.key);
  }

  /** The aggregate of one side over slots[first, last) in exact decimal arithmetic. */
  private exactAggregate(slots: Slot[], first: number, last: number, side: 0 | 1): Units {
    const { digits } = this.options;
    const mean = this.options.aggregates[side] === 'mean';
    const sum = this.sum0;
    sum.reset();
    let maxUnits: Units = 0;
    let maxScale = -1;
    for (let i = first; i < last; i++) {
      const slot = slots[i]!;
      if (slot.mask !== 3) continue;
      const fast = side === 0 ? slot.fast0 : slot.fast1;
      const exact = side === 0 ? slot.exact0 : slot.exact1;
      const units = exact === null ? fast : exact.units;
      const scale = exact === null ? FAST_SCALE : exact.scale;
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
      keys.push({
        key: state.key,
        firstJoined: Number.isFinite(state.firstJoined) ? state.firstJoined : null,
        slots: state.slots.slice(state.head).map((s) => [s.t, ...exactOf(s.fast0, s.exact0), ...exactOf(s.fast1, s.exact1), s.mask]),
      });
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
        const slot = new Slot(t);
        slot.fast0 = toFast(toUnits(u0), s0);
        slot.exact0 = slot.fast0 === slot.fast0 ? null : { units: toUnits(u0), scale: s0 };
        slot.fast1 = toFast(toUnits(u1), s1);
        slot.exact1 = slot.fast1 === slot.fast1 ? null : { units: toUnits(u1), scale: s1 };
        slot.mask = mask;
        state.slots.push(slot);
      }
      this.keys.set(saved.key, state);
      if (state.slots.length > 0) {
        this.queue.schedule(state, Math.max(firstWindowEnd(spec, state.slots[0]!.t), nextWindowEndAfter(spec, this.current)));
      }
    }
  }
}

function exactOf(fast: number, exact: Decimal | null): [string, number] {
  return exact === null ? [String(fast), FAST_SCALE] : [String(exact.units), exact.scale];
}

function toUnits(text: string): Units {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** The slot for instant t in ascending `slots`, inserted if new (appending is the common case). */
function findOrInsertSlot(state: KeyState, t: number): Slot {
  const slots = state.slots;
  const n = slots.length;
  if (n === state.head || slots[n - 1]!.t < t) {
    const slot = new Slot(t);
    slots.push(slot);
    return slot;
  }
  let lo = state.head;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const mt = slots[mid]!.t;
    if (mt === t) return slots[mid]!;
    if (mt < t) lo = mid + 1;
    else hi = mid - 1;
  }
  const slot = new Slot(t);
  slots.splice(lo, 0, slot);
  return slot;
}
