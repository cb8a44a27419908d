// Group commit. Appends write() at once and then ask for durability here;
// every request that arrives while one fdatasync round is running waits for
// the next round, which syncs each dirty file once for all of them. Under
// load this turns thousands of appends per second into a handful of fsync
// rounds, while an isolated append still gets its own round straight away.

export interface Syncable {
  datasync(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class FlushScheduler {
  /** fdatasync calls issued. */
  fsyncs = 0;
  /** Rounds run (each syncs every file dirtied since the previous one). */
  rounds = 0;
  private dirty = new Set<Syncable>();
  private waiters: Waiter[] = [];
  private running: Promise<void> | null = null;

  /** Resolves once `file` has been fdatasync'ed after this call. */
  sync(file: Syncable): Promise<void> {
    this.dirty.add(file);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.waiters.push({ resolve, reject });
    this.running ??= this.run();
    return promise;
  }

  /** Resolves when no round is pending or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    // Let appends whose writes finished in the same turn of the event loop join this round.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.waiters.length > 0) {
      const files = this.dirty;
      const waiters = this.waiters;
      this.dirty = new Set();
      this.waiters = [];
      this.rounds++;
      this.fsyncs += files.size;
      try {
        await Promise.all([...files].map((f) => f.datasync()));
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    this.running = null;
  }
}
