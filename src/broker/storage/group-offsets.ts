// Committed consumer group offsets: an in-memory map backed by an
// append-only file of JSON lines (dataDir/group-offsets.log). Each commit
// appends its lines and waits for an fdatasync (shared between concurrent
// commits), so an acknowledged OffsetCommit survives a crash. On open the
// file is replayed (a torn last line is ignored) and rewritten compacted;
// while running it is compacted again once dead lines dominate.
//
// Line kinds: {"g","t","p","o","m","e","ts"} a commit; {"dt"} forget a
// topic's offsets in every group; {"dg"} forget a group.

import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './files.ts';
import { FlushScheduler } from './flush-scheduler.ts';
import type { CommittedOffset, OffsetCommitEntry } from './types.ts';

const FILE = 'group-offsets.log';
const MIN_LINES_BEFORE_COMPACTION = 10000;

interface CommitLine {
  g: string;
  t: string;
  p: number;
  o: number;
  m: string | null;
  e: number;
  ts: number;
}
type Line = CommitLine | { dt: string } | { dg: string };

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class GroupOffsetStore {
  private readonly path: string;
  private readonly now: () => number;
  /** With fsync 'never' (the user traded safety for speed) commits resolve after the write. */
  private readonly fsync: boolean;
  private readonly flusher = new FlushScheduler();
  private readonly groups = new Map<string, Map<string, CommittedOffset>>();
  private handle: FileHandle | null = null;
  private fileBytes = 0;
  private linesInFile = 0;
  /** Commits waiting for the writer. */
  private pending: { data: Buffer; lines: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing: Promise<void> | null = null;

  private constructor(dataDir: string, now: () => number, fsync: boolean) {
    this.path = join(dataDir, FILE);
    this.now = now;
    this.fsync = fsync;
  }

  static async open(dataDir: string, now: () => number, fsync = true): Promise<GroupOffsetStore> {
    const store = new GroupOffsetStore(dataDir, now, fsync);
    let text = '';
    try {
      text = await readFile(store.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        break; // torn tail of a crashed write: everything after it was never acknowledged
      }
      store.apply(line);
    }
    await store.compact();
    return store;
  }

  /** fdatasync calls made for commits. */
  get fsyncs(): number {
    return this.flusher.fsyncs;
  }

  commit(group: string, offsets: readonly OffsetCommitEntry[]): Promise<void> {
    const ts = this.now();
    const lines: Line[] = offsets.map((o) => ({ g: group, t: o.topic, p: o.partition, o: o.offset, m: o.metadata, e: o.leaderEpoch, ts }));
    return this.write(lines);
  }

  fetch(group: string, topic?: string, partition?: number): CommittedOffset[] {
    const offsets = this.groups.get(group);
    if (!offsets) return [];
    const out: CommittedOffset[] = [];
    for (const c of offsets.values()) {
      if (topic !== undefined && c.topic !== topic) continue;
      if (partition !== undefined && c.partition !== partition) continue;
      out.push({ ...c });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  deleteTopic(topic: string): Promise<void> {
    return this.write([{ dt: topic }]);
  }

  deleteGroup(group: string): Promise<void> {
    return this.write([{ dg: group }]);
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
    await this.flusher.idle();
    await this.handle?.close();
    this.handle = null;
  }

  private apply(line: Line): void {
    if ('dt' in line) {
      for (const [group, offsets] of this.groups) {
        for (const [k, c] of offsets) if (c.topic === line.dt) offsets.delete(k);
        if (offsets.size === 0) this.groups.delete(group);
      }
    } else if ('dg' in line) {
      this.groups.delete(line.dg);
    } else {
      let offsets = this.groups.get(line.g);
      if (!offsets) this.groups.set(line.g, (offsets = new Map()));
      offsets.set(key(line.t, line.p), { topic: line.t, partition: line.p, offset: line.o, metadata: line.m, leaderEpoch: line.e, commitTimestamp: line.ts });
    }
  }

  private write(lines: Line[]): Promise<void> {
    // Memory first, in call order, so a fetch right after a commit sees it.
    for (const line of lines) this.apply(line);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.pending.push({ data: Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join('')), lines: lines.length, resolve, reject });
    this.writing ??= this.drain();
    return promise;
  }

  /**
   * One writer: everything queued while the previous write ran goes out in
   * one write() (file order = call order), and its fsync is awaited outside
   * the loop so commits arriving meanwhile share it.
   */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          if (this.linesInFile > Math.max(MIN_LINES_BEFORE_COMPACTION, 4 * this.liveCount())) await this.compact();
          const handle = this.handle!;
          const data = Buffer.concat(batch.map((p) => p.data));
          await handle.write(data, 0, data.length, this.fileBytes);
          this.fileBytes += data.length;
          this.linesInFile += batch.reduce((n, p) => n + p.lines, 0);
          const synced = this.fsync ? this.flusher.sync(handle) : Promise.resolve();
          synced.then(
            () => batch.forEach((p) => p.resolve()),
            (error: unknown) => batch.forEach((p) => p.reject(error)),
          );
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private liveCount(): number {
    let n = 0;
    for (const offsets of this.groups.values()) n += offsets.size;
    return n;
  }

  /** Rewrites the file with only the live commits, atomically, and reopens it for appending (after pending fsyncs of the old file). */
  private async compact(): Promise<void> {
    const lines: string[] = [];
    for (const [group, offsets] of this.groups) {
      for (const c of offsets.values()) lines.push(JSON.stringify({ g: group, t: c.topic, p: c.partition, o: c.offset, m: c.metadata, e: c.leaderEpoch, ts: c.commitTimestamp } satisfies CommitLine));
    }
    const data = lines.length > 0 ? lines.join('\n') + '\n' : '';
    await this.flusher.idle();
    await this.handle?.close();
    await writeFileAtomic(this.path, data);
    this.handle = await open(this.path, 'r+');
    this.fileBytes = Buffer.byteLength(data);
    this.linesInFile = lines.length;
  }
}
