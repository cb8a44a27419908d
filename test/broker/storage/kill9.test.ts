import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBrokerStore } from '../../../src/broker/storage/index.ts';
import { decodeRecords, withTempDir } from './helpers.ts';

const appender = join(import.meta.dirname, 'fixtures', 'appender.ts');

/** Runs the appender until it has acknowledged `acks` batches, then SIGKILLs it; returns the acks seen. */
interface RunResult {
  acked: Map<string, { partition: number; offset: number }>;
  /** Highest offset whose commit was acknowledged, per partition. */
  committed: Map<number, number>;
}

function runAndKill(dir: string, run: number, acks: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [appender, dir, String(run)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Map<string, { partition: number; offset: number }>();
    const committed = new Map<number, number>();
    let pending = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, partition, offset, seq] = line.split(' ');
        if (kind === 'commit') committed.set(Number(partition), Math.max(committed.get(Number(partition)) ?? -1, Number(offset)));
        if (kind !== 'ack') continue;
        acked.set(`r${run}.p${partition}.s${seq}`, { partition: Number(partition), offset: Number(offset) });
      }
      if (!killed && acked.size >= acks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve({ acked, committed });
      else reject(new Error(`appender exited on its own (${_code})`));
    });
  });
}

test('kill -9 during acked appends and commits: every acknowledged batch is there once, in order, and every acknowledged commit', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const everAcked = new Map<string, { partition: number; offset: number }>();
    // Two crash/restart rounds: the second one appends after a recovery.
    for (const [run, target] of [400, 300].entries()) {
      const { acked, committed } = await runAndKill(dir, run, target);
      for (const [k, v] of acked) everAcked.set(k, v);
      const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 64 * 1024 });
      // Every acknowledged offset commit survived (a later, unacknowledged one may have too).
      for (const [partition, offset] of committed) {
        const [stored] = store.fetchOffsets(`g${run}`, 't', partition);
        assert.ok(stored && stored.offset >= offset, `commit ${offset} of partition ${partition} survived`);
      }
      for (const partition of [0, 1]) {
        const log = store.partition('t', partition)!;
        const seen = new Map<string, number>();
        const lastSeqPerLane = new Map<string, number>();
        for (let offset = 0; offset < log.highWatermark;) {
          const { records, errorCode } = await log.read(offset, 1 << 20);
          assert.equal(errorCode, 0);
          for (const r of decodeRecords(records)) {
            if (r.offset < offset) continue;
            assert.equal(r.offset, offset, 'contiguous offsets');
            offset++;
            const tag = r.value!.toString().replace(/\.+$/, '');
            const batchTag = tag.slice(0, tag.lastIndexOf('-'));
            if (tag.endsWith('-0')) {
              assert.ok(!seen.has(batchTag), `${batchTag} appears twice`);
              seen.set(batchTag, r.offset);
              const [runTag, , seqTag] = batchTag.split('.');
              const seq = Number(seqTag!.slice(1));
              const lane = `${runTag}/${seq % 4}`;
              assert.ok(seq > (lastSeqPerLane.get(lane) ?? -1), 'per-lane order kept');
              lastSeqPerLane.set(lane, seq);
            }
          }
        }
        for (const [tag, ack] of everAcked) {
          if (ack.partition !== partition) continue;
          assert.equal(seen.get(tag), ack.offset, `acknowledged ${tag} at ${ack.offset} survived`);
        }
      }
      await store.close();
    }
    assert.ok(everAcked.size >= 700);
  });
});
