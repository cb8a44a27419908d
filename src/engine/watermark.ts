// Event-time clock: turns the event times seen on each input partition into
// one watermark. Watermark = the smallest, over the partitions being read, of
// the latest event time seen there, minus the allowed lateness. A partition
// that has been read to its end and stays idle (no records) for longer than
// the idle timeout stops holding it back;
// when every partition is idle the watermark moves on with wall-clock time,
// so the last windows close even if no more data comes. Wall-clock time is
// passed in by the caller: the engine never reads a clock.

export interface WatermarkOptions {
  /** Allowed lateness in ms. */
  lateness: number;
  /** A partition silent for this long (wall ms) stops holding the watermark back. Infinity disables. */
  idleTimeout: number;
}

interface PartitionClock {
  maxEventTime: number;
  lastSeenWall: number;
  /**
   * Whether the reader has read all the partition holds. Only such a
   * partition can be idle: one that is merely not being delivered (the
   * consumer busy with others, a backlog) must keep holding the watermark.
   */
  caughtUp: boolean;
}

export interface WatermarkSnapshot {
  watermark: number;
  partitions: Array<[string, number]>;
}

export class WatermarkClock {
  private readonly partitions = new Map<string, PartitionClock>();
  private current = Number.NEGATIVE_INFINITY;
  readonly options: WatermarkOptions;

  constructor(options: WatermarkOptions) {
    this.options = options;
  }

  /**
   * Declares a partition this clock reads before any of its records came: it
   * holds the watermark back until it has records or has been idle for the
   * idle timeout. (Without this, the first partition to deliver would run the
   * watermark ahead and the other's records would all be late.)
   */
  register(partition: string, wallNow: number): void {
    if (!this.partitions.has(partition)) this.partitions.set(partition, { maxEventTime: Number.NEGATIVE_INFINITY, lastSeenWall: wallNow, caughtUp: false });
  }

  /** Records an event seen on a partition. */
  observe(partition: string, eventTime: number, wallNow: number): void {
    const clock = this.partitions.get(partition);
    if (clock === undefined) {
      this.partitions.set(partition, { maxEventTime: eventTime, lastSeenWall: wallNow, caughtUp: false });
      return;
    }
    if (eventTime > clock.maxEventTime) clock.maxEventTime = eventTime;
    clock.lastSeenWall = wallNow;
  }

  /** Tells whether the reader has read everything the partition holds (see PartitionClock.caughtUp). */
  setCaughtUp(partition: string, caughtUp: boolean): void {
    const clock = this.partitions.get(partition);
    if (clock !== undefined) clock.caughtUp = caughtUp;
  }

  /** Forgets a partition (revoked from this worker). */
  forget(partition: string): void {
    this.partitions.delete(partition);
  }

  /** The watermark at wall time `wallNow`; it never goes back. */
  watermark(wallNow: number): number {
    let lowest = Number.POSITIVE_INFINITY;
    let highest = Number.NEGATIVE_INFINITY;
    let lastActivity = Number.NEGATIVE_INFINITY;
    const { idleTimeout, lateness } = this.options;
    for (const clock of this.partitions.values()) {
      if (clock.maxEventTime > highest) highest = clock.maxEventTime;
      if (clock.maxEventTime > Number.NEGATIVE_INFINITY && clock.lastSeenWall > lastActivity) lastActivity = clock.lastSeenWall;
      if (clock.caughtUp && wallNow - clock.lastSeenWall >= idleTimeout) continue;
      if (clock.maxEventTime < lowest) lowest = clock.maxEventTime;
    }
    let candidate: number;
    if (lowest !== Number.POSITIVE_INFINITY) {
      candidate = lowest - lateness;
    } else if (highest !== Number.NEGATIVE_INFINITY) {
      // Every partition idle: event time advances with wall time since the last record.
      candidate = highest - lateness + Math.max(0, wallNow - lastActivity - idleTimeout);
    } else {
      candidate = Number.NEGATIVE_INFINITY;
    }
    if (candidate > this.current) this.current = candidate;
    return this.current;
  }

  snapshot(): WatermarkSnapshot {
    return { watermark: this.current, partitions: [...this.partitions].map(([id, c]) => [id, c.maxEventTime]) };
  }

  /** Restores after a restart; wall times start afresh from `wallNow`. */
  restore(snapshot: WatermarkSnapshot, wallNow: number): void {
    // JSON turns -Infinity into null.
    this.current = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    this.partitions.clear();
    for (const [id, maxEventTime] of snapshot.partitions) this.partitions.set(id, { maxEventTime: maxEventTime ?? Number.NEGATIVE_INFINITY, lastSeenWall: wallNow, caughtUp: false });
  }
}
