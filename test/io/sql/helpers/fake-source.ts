// A consumer stand-in for in-process sink tests: hands out given records in
// polls of a chosen size and remembers the offsets committed.
import type { SinkSource, SinkSourceRecord } from '../../../../src/io/sql/sink.ts';

export class FakeSource implements SinkSource {
  private readonly records: SinkSourceRecord[];
  private at = 0;
  private readonly pollSize: number;
  readonly commits: Array<Array<{ topic: string; partition: number; offset: number }>> = [];

  constructor(records: SinkSourceRecord[], pollSize = 1000) {
    this.records = records;
    this.pollSize = pollSize;
  }

  async poll(): Promise<SinkSourceRecord[]> {
    const batch = this.records.slice(this.at, this.at + this.pollSize);
    this.at += batch.length;
    return batch;
  }

  async commit(offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>): Promise<void> {
    this.commits.push([...offsets]);
  }
}

/** Records of one topic partition with consecutive offsets from `first`. */
export function records(topic: string, values: readonly (string | object)[], partition = 0, first = 0): SinkSourceRecord[] {
  return values.map((v, i) => ({ topic, partition, offset: first + i, value: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)) }));
}
