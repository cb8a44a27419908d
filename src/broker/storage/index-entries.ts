// The in-memory copy of a segment's sparse index, in growable typed arrays
// (16 bytes an entry) rather than objects: a full segment of tiny batches
// has ~16k entries, and a broker may keep hundreds of segments open.

export interface IndexEntry {
  relativeOffset: number;
  position: number;
  maxTimestamp: number;
}

export class IndexEntries {
  length = 0;
  private relativeOffsets = new Int32Array(16);
  private positions = new Int32Array(16);
  private maxTimestamps = new Float64Array(16);

  push(entry: IndexEntry): void {
    if (this.length === this.positions.length) this.grow();
    this.relativeOffsets[this.length] = entry.relativeOffset;
    this.positions[this.length] = entry.position;
    this.maxTimestamps[this.length] = entry.maxTimestamp;
    this.length++;
  }

  at(i: number): IndexEntry {
    return { relativeOffset: this.relativeOffsets[i]!, position: this.positions[i]!, maxTimestamp: this.maxTimestamps[i]! };
  }

  last(): IndexEntry | undefined {
    return this.length > 0 ? this.at(this.length - 1) : undefined;
  }

  clear(): void {
    this.length = 0;
  }

  /** Index of the last entry whose relative offset is <= rel, or -1. */
  floorByOffset(rel: number): number {
    let lo = 0;
    let hi = this.length - 1;
    if (hi < 0 || this.relativeOffsets[0]! > rel) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.relativeOffsets[mid]! <= rel) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Index of the first entry whose running max timestamp is >= timestamp (length when none). */
  firstReachingTimestamp(timestamp: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maxTimestamps[mid]! >= timestamp) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private grow(): void {
    const size = this.positions.length * 2;
    const relativeOffsets = new Int32Array(size);
    const positions = new Int32Array(size);
    const maxTimestamps = new Float64Array(size);
    relativeOffsets.set(this.relativeOffsets);
    positions.set(this.positions);
    maxTimestamps.set(this.maxTimestamps);
    this.relativeOffsets = relativeOffsets;
    this.positions = positions;
    this.maxTimestamps = maxTimestamps;
  }
}
