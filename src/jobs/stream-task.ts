// What the streaming runner (src/io/stream/task-runner.ts) needs from a task:
// the unit of work of a streaming job, one input partition number (or, for a
// global aggregate, every partition), pure and deterministic. Records and
// wall time come in; outputs leave through callbacks the job gives the task;
// the whole state, input offsets included, is one JSON-safe checkpoint.

export interface InputRecord {
  topic: string;
  partition: number;
  offset: number;
  value: string;
}

export interface TaskPosition {
  topic: string;
  partition: number;
  /** Next offset to read. */
  offset: number;
}

export interface StreamTaskCounters {
  read: number;
  rejected: number;
  late: number;
}

export interface StreamTask<C> {
  readonly counters: StreamTaskCounters;
  /** Declares the task's input partitions, which hold the watermark back until they deliver or go idle. */
  start(wallNow: number): void;
  /** Tells the task whether it has read all of an input partition (given the partition's log end). */
  setLogEnd(topic: string, logEnd: number, partition: number): void;
  /** Where to resume reading topic:partition, or undefined for the group's position. */
  resumeOffset(topic: string, partition: number): number | undefined;
  process(record: InputRecord, wallNow: number): void;
  /** Lets the watermark move with wall time and emits what it closes. */
  tick(wallNow: number): void;
  /** End of a finite input: emits every open window. */
  finish(): void;
  /** Next offsets to read, for the group's commit. */
  positions(): TaskPosition[];
  checkpoint(): C;
  restore(checkpoint: C, wallNow: number): void;
}
