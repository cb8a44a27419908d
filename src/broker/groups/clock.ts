// Schedulers for the group coordinator: the real one (Date.now + Node
// timers) and a manual one whose clock only moves when a test advances it,
// firing due timers in deadline order.

import type { Scheduler, TimerHandle } from './types.ts';

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    // Group timers must never keep the process alive on their own.
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface ManualTimer {
  id: number;
  due: number;
  callback: () => void;
}

export class ManualScheduler implements Scheduler {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, due: this.current + Math.max(0, delayMs), callback };
    this.timers.set(timer.id, timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    if ('id' in handle && typeof handle.id === 'number') this.timers.delete(handle.id);
  }

  /** Number of timers still scheduled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves the clock forward, firing every timer that falls due, earliest first (ties in creation order). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: ManualTimer | null = null;
      for (const t of this.timers.values()) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      if (!next) break;
      this.timers.delete(next.id);
      this.current = next.due;
      next.callback();
    }
    this.current = target;
  }
}
