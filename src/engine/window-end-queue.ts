// The keys of a window operator, queued by the end of the next window each
// must close. Advancing the watermark then touches only the keys that have a
// window to close, however many keys are idle. A key re-queued for an earlier
// end leaves a stale entry behind; entries are checked against the key's
// current `nextEnd` and stale ones skipped.

import { MinHeap } from './min-heap.ts';

export interface Queued {
  /** End of the window this key is queued to close; NaN when not queued. */
  nextEnd: number;
}

export class WindowEndQueue<K extends Queued> {
  private readonly buckets = new Map<number, K[]>();
  private readonly ends = new MinHeap();

  /** Queues `key` to close the window ending at `end`, unless it is queued for an earlier one. */
  schedule(key: K, end: number): void {
    if (end >= key.nextEnd) return;
    key.nextEnd = end;
    const bucket = this.buckets.get(end);
    if (bucket === undefined) {
      this.buckets.set(end, [key]);
      this.ends.push(end);
    } else {
      bucket.push(key);
    }
  }

  /**
   * Hands every key whose queued end is at or before `watermark` to `close`,
   * smallest end first; `close` may queue the key again (for a later end).
   */
  drainUpTo(watermark: number, close: (key: K, end: number) => void): void {
    const ends = this.ends;
    while (ends.size > 0 && ends.peek()! <= watermark) {
      const end = ends.pop()!;
      const keys = this.buckets.get(end)!;
      this.buckets.delete(end);
      for (const key of keys) {
        if (key.nextEnd !== end) continue;
        key.nextEnd = Number.NaN;
        close(key, end);
      }
    }
  }

  clear(): void {
    this.buckets.clear();
    while (this.ends.size > 0) this.ends.pop();
  }
}
