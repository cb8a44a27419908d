// Where one side of a thread hand-over leaves items for the other: items put
// while nobody waits are kept in order, and `take` gives the oldest one or
// waits for the next. The batch reader's two ends use it: the main thread
// for the reader's batches, the reading thread for the arrays handed back.

export class Mailbox<T> {
  private readonly items: T[] = [];
  private waiting: ((item: T) => void) | null = null;

  constructor(items: Iterable<T> = []) {
    this.items.push(...items);
  }

  put(item: T): void {
    const resume = this.waiting;
    if (resume === null) {
      this.items.push(item);
    } else {
      this.waiting = null;
      resume(item);
    }
  }

  /** The oldest item, once there is one (one taker at a time). */
  take(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise<T>((resolve) => (this.waiting = resolve));
  }
}
