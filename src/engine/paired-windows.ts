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

import { DecimalSum, compareDecimal, roundUnits, type Units } from './decimal.ts';
import { MinHeap } from './min-heap.ts';
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

class Slot {
  t: number;
  units0: Units = 0;
  scale0 = 0;
  units1: Units = 0;
  scale1 = 0;
  mask = 0;
  constructor(t: number) {
    this.t = t;
  }
}

class KeyState {
  readonly key: string;
  /** Instants still inside an open window, ascending. */
  slots: Slot[] = [];
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
  private readonly queue = new Map<number, KeyState[]>();
  private readonly queueTimes = new MinHeap();
  private readonly sum0 = new DecimalSum();
  private readonly sum1 = new DecimalSum();
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
    for (const state of this.keys.values()) n += state.slots.length;
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
    const slot = findOrInsertSlot(state.slots, t);
    if (side === 0) {
      slot.units0 = units;
      slot.scale0 = scale;
    } else {
      slot.units1 = units;
      slot.scale1 = scale;
    }
    slot.mask |= side === 0 ? 1 : 2;
    if (slot.mask === 3 && t < state.firstJoined) state.firstJoined = t;
    this.schedule(state, Math.max(firstWindowEnd(spec, t), nextWindowEndAfter(spec, watermark)));
    return 0;
  }

  /** Moves the watermark forward and emits every window whose end it reaches. */
  advanceTo(watermark: number, emit: Emit): void {
    if (!(watermark > this.current)) return;
    this.current = watermark;
    const times = this.queueTimes;
    while (times.size > 0 && times.peek()! <= watermark) {
      const end = times.pop()!;
      const states = this.queue.get(end)!;
      this.queue.delete(end);
      for (const state of states) {
        if (state.nextEnd !== end) continue;
        state.nextEnd = Number.NaN;
        this.closeWindow(state, end, emit);
      }
    }
  }

  /** End of input: emits every open window. */
  flush(emit: Emit): void {
    this.advanceTo(Number.POSITIVE_INFINITY, emit);
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

  private closeWindow(state: KeyState, end: number, emit: Emit): void {
    const { window: spec, aggregates, digits, trimLeading } = this.options;
    const start = end - spec.size;
    const slots = state.slots;
    const sum0 = this.sum0;
    const sum1 = this.sum1;
    sum0.reset();
    sum1.reset();
    let count = 0;
    let max0: Slot | null = null;
    let max1: Slot | null = null;
    let i = 0;
    while (i < slots.length && slots[i]!.t < start) i++;
    for (; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot.t >= end) break;
      if (slot.mask !== 3) continue;
      count++;
      if (aggregates[0] === 'mean') sum0.add(slot.units0, slot.scale0);
      else if (max0 === null || compareDecimal(slot.units0, slot.scale0, max0.units0, max0.scale0) > 0) max0 = slot;
      if (aggregates[1] === 'mean') sum1.add(slot.units1, slot.scale1);
      else if (max1 === null || compareDecimal(slot.units1, slot.scale1, max1.units1, max1.scale1) > 0) max1 = slot;
    }
    if (count > 0 && !(trimLeading && start < lastWindowStart(spec, state.firstJoined))) {
      emit({
        key: state.key,
        start,
        end,
        value0: max0 === null ? sum0.meanUnits(digits) : roundUnits(max0.units0, max0.scale0, digits),
        value1: max1 === null ? sum1.meanUnits(digits) : roundUnits(max1.units1, max1.scale1, digits),
        count,
      });
    }
    // Instants before the next window's start are behind every open window.
    const nextStart = start + spec.slide;
    let drop = 0;
    while (drop < slots.length && slots[drop]!.t < nextStart) drop++;
    if (drop > 0) slots.splice(0, drop);
    if (slots.length > 0) this.schedule(state, Math.max(end + spec.slide, firstWindowEnd(spec, slots[0]!.t)));
    else if (!trimLeading) this.keys.delete(state.key);
  }

  snapshot(): PairedWindowSnapshot {
    const keys: PairedWindowSnapshot['keys'] = [];
    for (const state of this.keys.values()) {
      keys.push({
        key: state.key,
        firstJoined: Number.isFinite(state.firstJoined) ? state.firstJoined : null,
        slots: state.slots.map((s) => [s.t, String(s.units0), s.scale0, String(s.units1), s.scale1, s.mask]),
      });
    }
    return { watermark: this.current, keys };
  }

  restore(snapshot: PairedWindowSnapshot): void {
    this.keys.clear();
    this.queue.clear();
    while (this.queueTimes.size > 0) this.queueTimes.pop();
    this.current = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    const spec = this.options.window;
    for (const saved of snapshot.keys) {
      const state = new KeyState(saved.key);
      state.firstJoined = saved.firstJoined ?? Number.POSITIVE_INFINITY;
      for (const [t, u0, s0, u1, s1, mask] of saved.slots) {
        const slot = new Slot(t);
        slot.units0 = toUnits(u0);
        slot.scale0 = s0;
        slot.units1 = toUnits(u1);
        slot.scale1 = s1;
        slot.mask = mask;
        state.slots.push(slot);
      }
      this.keys.set(saved.key, state);
      if (state.slots.length > 0) {
        this.schedule(state, Math.max(firstWindowEnd(spec, state.slots[0]!.t), nextWindowEndAfter(spec, this.current)));
      }
    }
  }
}

function toUnits(text: string): Units {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** The slot for instant t in ascending `slots`, inserted if new (appending is the common case). */
function findOrInsertSlot(slots: Slot[], t: number): Slot {
  const n = slots.length;
  if (n === 0 || slots[n - 1]!.t < t) {
    const slot = new Slot(t);
    slots.push(slot);
    return slot;
  }
  let lo = 0;
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
