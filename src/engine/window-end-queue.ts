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

/** The keys queued for one end: keys[0, size). */
interface Bucket<K> {
  keys: K[];
  size: number;
}

/** Drained buckets kept for reuse. */
const SPARE_BUCKETS = 16;

export class WindowEndQueue<K extends Queued> {
  private readonly buckets = new Map<number, Bucket<K>>();
  private readonly ends = new MinHeap();
  /**
   * Drained buckets, reused with their arrays' room: every key passes
   * through a bucket per window, and arrays grown afresh for each end were
   * most of what a job allocated (60 MB for 10 M rows, all garbage).
   */
  private readonly spare: Array<Bucket<K>> = [];

  /** Queues `key` to close the window ending at `end`, unless it is queued for an earlier one. */
  schedule(key: K, end: number): void {
    if (end >= key.nextEnd) return;
    key.nextEnd = end;
    let bucket = this.buckets.get(end);
    if (bucket === undefined) {
      bucket = this.spare.pop() ?? { keys: [], size: 0 };
      this.buckets.set(end, bucket);
      this.ends.push(end);
    }
    if (bucket.size < bucket.keys.length) bucket.keys[bucket.size] = key;
    else bucket.keys.push(key);
    bucket.size++;
  }

  /**
   * Hands every key whose queued end is at or before `watermark` to `close`,
   * smallest end first; `close` may queue the key again (for a later end).
   */
  drainUpTo(watermark: number, close: (key: K, end: number) => void): void {
    const ends = this.ends;
    while (ends.size > 0 && ends.peek()! <= watermark) {
      const end = ends.pop()!;
      const bucket = this.buckets.get(end)!;
      this.buckets.delete(end);
      const { keys, size } = bucket;
      for (let i = 0; i < size; i++) {
        const key = keys[i]!;
        if (key.nextEnd !== end) continue;
        key.nextEnd = Number.NaN;
        close(key, end);
      }
      // Out of the map, so `close` above queued into other buckets: this one can be reused.
      bucket.size = 0;
      if (this.spare.length < SPARE_BUCKETS) this.spare.push(bucket);
    }
  }

  clear(): void {
    this.buckets.clear();
    while (this.ends.size > 0) this.ends.pop();
  }
}
