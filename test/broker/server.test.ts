// The server's contract over raw sockets: version negotiation, header rules,
// ordering of pipelined requests, acks=0, long-poll Fetch that blocks no other
// connection, errors that return at once, oversized frames, stable topic ids
// across restarts, and the CLI's exit codes and signal handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiVersions } from '../../src/broker/apis/api-versions.ts';
import { metadata } from '../../src/broker/apis/metadata.ts';
import { produce } from '../../src/broker/apis/produce.ts';
import { fetch } from '../../src/broker/apis/fetch.ts';
import { heartbeat } from '../../src/broker/apis/heartbeat.ts';
import { createTopics } from '../../src/broker/apis/create-topics.ts';
import { deleteTopics } from '../../src/broker/apis/delete-topics.ts';
import { allApis } from '../../src/broker/apis/index.ts';
import { startBroker } from '../../src/broker/server.ts';
import { Reader } from '../../src/broker/protocol/reader.ts';
import { withBroker, run } from './helpers/broker.ts';
import { RawClient } from './helpers/raw-client.ts';
import { recordBatch } from './helpers/batches.ts';
import { spawnBroker, ensureStopped, nodeBin, cliPath } from './helpers/process.ts';
import type { BrokerProcess } from './helpers/process.ts';

type Json = Record<string, unknown>;
const ZERO_ID = '00000000000000000000000000000000';

test('ApiVersions: every version up to 3 lists all APIs; v4 gets UNSUPPORTED_VERSION with a v0 body', async () => {
  await withBroker(async (broker) => {
    const client = await RawClient.connect(broker.port);
    try {
      for (let version = 0; version <= 3; version++) {
        const body = await client.request(apiVersions, version, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
        assert.equal(body.errorCode, 0);
        const keys = body.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[];
        assert.deepEqual(keys.map((k) => k.apiKey), allApis.map((api) => api.key).sort((a, b) => a - b));
        // librdkafka 2.0.2 gating: groups and FindCoordinator from v0, Produce from v0 (compression).
        for (const key of [0, 8, 9, 10, 11, 12, 13, 14, 22]) assert.equal(keys.find((k) => k.apiKey === key)?.minVersion, 0, `api ${key} min 0`);
      }
      client.send(apiVersions, 4, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
      const frame = await client.nextFrame();
      assert.ok(frame);
      const reader = new Reader(frame);
      reader.int32(); // correlation id, then straight into the v0 body: no tagged fields
      assert.equal(reader.int16(), 35);
      const count = reader.int32();
      const ranges = Array.from({ length: count }, () => [reader.int16(), reader.int16(), reader.int16()]);
      assert.deepEqual(ranges.find(([key]) => key === 18), [18, 0, 3]);
      assert.equal(reader.remaining, 0);
    } finally {
      client.close();
    }
  });
});

test('a too-new version is answered UNSUPPORTED_VERSION where the response has an error code, else the connection closes', async () => {
  await withBroker(async (broker) => {
    const client = await RawClient.connect(broker.port);
    const body = await client.request(heartbeat, 5, { groupId: 'g', generationId: 1, memberId: 'm' });
    assert.equal(body.errorCode, 35);
    client.send(metadata, 13, { topics: null });
    assert.equal(await client.nextFrame(), null, 'closed');
    assert.ok(broker.logLines.some((line) => /Metadata v13 is not supported/.test(line)));
  });
});

test('pipelined requests are answered in order; acks=0 produces no response', async () => {
  await withBroker(async (broker) => {
    await broker.store.createTopic('pipe', 1);
    const client = await RawClient.connect(broker.port);
    try {
      const records = recordBatch(['a', 'b']);
      const frames = [
        RawClient.frame(metadata, 12, { topics: null }, 1),
        RawClient.frame(produce, 9, { acks: 0, timeoutMs: 1000, topicData: [{ name: 'pipe', partitionData: [{ index: 0, records }] }] }, 2),
        RawClient.frame(produce, 3, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'pipe', partitionData: [{ index: 0, records }] }] }, 3),
        RawClient.frame(apiVersions, 0, {}, 4),
      ];
      client.socket.write(Buffer.concat(frames));
      assert.equal((await client.receive(metadata, 12)).correlationId, 1);
      const produced = await client.receive(produce, 3);
      assert.equal(produced.correlationId, 3, 'no answer for the acks=0 request');
      const partition = ((produced.body.responses as Json[])[0]?.partitionResponses as Json[])[0];
      assert.equal(partition?.errorCode, 0);
      assert.equal(partition?.baseOffset, 2, 'the acks=0 batch was stored first');
      assert.equal((await client.receive(apiVersions, 0)).correlationId, 4);
    } finally {
      client.close();
    }
  });
});

test('a long-polling Fetch waits for data without blocking other connections', async () => {
  await withBroker(async (broker) => {
    const topic = (await broker.store.createTopic('poll', 1)).topic;
    assert.ok(topic);
    const waiter = await RawClient.connect(broker.port);
    const other = await RawClient.connect(broker.port);
    try {
      const began = Date.now();
      waiter.send(fetch, 13, { maxWaitMs: 5000, minBytes: 1, topics: [{ topicId: topic.topicId.toString('hex'), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] });
      await other.request(apiVersions, 3, {});
      assert.ok(Date.now() - began < 1000, 'another connection is served while the fetch waits');
      await other.request(produce, 9, { acks: -1, timeoutMs: 1000, topicData: [{ name: 'poll', partitionData: [{ index: 0, records: recordBatch(['wake up']) }] }] });
      const answer = await waiter.receive(fetch, 13);
      assert.ok(Date.now() - began < 2500, 'the fetch returns when data arrives, not at max_wait');
      const partition = ((answer.body.responses as Json[])[0]?.partitions as Json[])[0];
      assert.equal(partition?.highWatermark, 1);
      assert.ok((partition?.records as Buffer).length > 61);
    } finally {
      waiter.close();
      other.close();
    }
  });
});

test('Fetch errors return at once: unknown topic id (100), offset out of range (1); empty records are zero-length', async () => {
  await withBroker(async (broker) => {
    const topic = (await broker.store.createTopic('errs', 1)).topic;
    assert.ok(topic);
    const client = await RawClient.connect(broker.port);
    try {
      const began = Date.now();
      const unknown = await client.request(fetch, 17, { maxWaitMs: 5000, minBytes: 1, topics: [{ topicId: 'ab'.repeat(16), partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }] });
      assert.equal((((unknown.responses as Json[])[0]?.partitions as Json[])[0])?.errorCode, 100);
      const range = await client.request(fetch, 11, { maxWaitMs: 5000, minBytes: 1, topics: [{ topic: 'errs', partitions: [{ partition: 0, fetchOffset: 99, partitionMaxBytes: 1000 }] }] });
      assert.equal((((range.responses as Json[])[0]?.partitions as Json[])[0])?.errorCode, 1);
      assert.ok(Date.now() - began < 1500, 'errors do not wait for max_wait');
      const empty = await client.request(fetch, 4, { maxWaitMs: 0, minBytes: 0, topics: [{ topic: 'errs', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }] });
      const records = (((empty.responses as Json[])[0]?.partitions as Json[])[0])?.records as Buffer | null;
      assert.ok(records !== null && records.length === 0, 'zero-length, not null');
    } finally {
      client.close();
    }
  });
});

test('an oversized frame closes only its connection', async () => {
  await withBroker(async (broker) => {
    const bad = await RawClient.connect(broker.port);
    const good = await RawClient.connect(broker.port);
    bad.socket.write(Buffer.from('00100000', 'hex'));
    assert.equal(await bad.nextFrame(), null);
    assert.equal((await good.request(apiVersions, 2, {})).errorCode, 0);
    good.close();
    assert.ok(broker.logLines.some((line) => /frame size 1048576 exceeds --max-request-bytes 65536/.test(line)));
  }, { maxRequestBytes: 65536 });
});

test('Metadata: auto-creation only when allowed; topic ids are non-zero and survive a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-broker-meta-'));
  try {
    let broker = await startBroker({ port: 0, dataDir, log: () => {}, defaultPartitions: 3 });
    let client = await RawClient.connect(broker.port);
    const refused = await client.request(metadata, 12, { topics: [{ name: 'maybe' }], allowAutoTopicCreation: false });
    assert.equal(((refused.topics as Json[])[0])?.errorCode, 3);
    const created = await client.request(metadata, 12, { topics: [{ name: 'maybe' }], allowAutoTopicCreation: true });
    const topic = (created.topics as Json[])[0] as Json;
    assert.equal(topic.errorCode, 0);
    assert.equal((topic.partitions as Json[]).length, 3);
    assert.notEqual(topic.topicId, ZERO_ID);
    const brokers = created.brokers as Json[];
    assert.deepEqual(brokers.map((b) => [b.nodeId, b.host, b.port]), [[0, '127.0.0.1', broker.port]]);
    const v0 = await client.request(metadata, 0, { topics: [] });
    assert.deepEqual((v0.topics as Json[]).map((t) => t.name), ['maybe'], 'v0: an empty list means all topics');
    client.close();
    await broker.close();

    broker = await startBroker({ port: 0, dataDir, log: () => {} });
    client = await RawClient.connect(broker.port);
    const byId = await client.request(metadata, 12, { topics: [{ topicId: topic.topicId, name: null }] });
    assert.equal(((byId.topics as Json[])[0])?.name, 'maybe', 'the same id after a restart');
    client.close();
    await broker.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('streamwatch broker: bad usage exits 2; SIGINT and SIGTERM stop it cleanly with exit 0', async (t) => {
  const usage = await run(nodeBin, [cliPath, 'broker', '--fsync', 'sometimes']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--fsync: 'sometimes' must be 'always' or 'never'/);
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-broker-cli-'));
  let broker: BrokerProcess | undefined;
  t.after(async () => {
    await ensureStopped(broker);
    await rm(dataDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    broker = await spawnBroker(['--data-dir', dataDir]);
    const client = await RawClient.connect(broker.port);
    assert.equal((await client.request(apiVersions, 3, {})).errorCode, 0);
    broker.child.kill(signal);
    assert.equal(await broker.exited, 0);
    assert.match(broker.stderr(), new RegExp(`${signal}, stopping[\\s\\S]*stopped`));
    client.close();
  }
});

test('Produce v0-2 (advertised for librdkafka) refuses message sets older than magic 2', async () => {
  await withBroker(async (broker) => {
    await broker.store.createTopic('old', 1);
    const client = await RawClient.connect(broker.port);
    const legacy = recordBatch(['x']);
    legacy[16] = 1; // magic 1
    const body = await client.request(produce, 2, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'old', partitionData: [{ index: 0, records: legacy }] }] });
    assert.equal((((body.responses as Json[])[0]?.partitionResponses as Json[])[0])?.errorCode, 43);
    assert.equal(broker.store.partition('old', 0)?.highWatermark, 0);
    client.close();
  });
});

test('CreateTopics and DeleteTopics across versions: by name, by id, and the single-node rules', async () => {
  await withBroker(async (broker) => {
    const client = await RawClient.connect(broker.port);
    const v0 = await client.request(createTopics, 0, { topics: [{ name: 'c0', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000 });
    assert.equal(((v0.topics as Json[])[0])?.errorCode, 0);
    const v7 = await client.request(createTopics, 7, {
      topics: [
        { name: 'c7', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] },
        { name: 'c0', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'c3', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
    });
    const results = v7.topics as Json[];
    assert.equal(results[0]?.errorCode, 0);
    assert.equal(results[0]?.numPartitions, 4, '--default-partitions');
    assert.notEqual(results[0]?.topicId, ZERO_ID);
    assert.equal(results[1]?.errorCode, 36, 'TOPIC_ALREADY_EXISTS');
    assert.equal(results[2]?.errorCode, 38, 'INVALID_REPLICATION_FACTOR');
    const byName = await client.request(deleteTopics, 1, { topicNames: ['c0', 'nope'], timeoutMs: 1000 });
    assert.deepEqual((byName.responses as Json[]).map((r) => r.errorCode), [0, 3]);
    const byId = await client.request(deleteTopics, 6, { topics: [{ name: null, topicId: results[0]?.topicId }], timeoutMs: 1000 });
    assert.deepEqual((byId.responses as Json[]).map((r) => [r.name, r.errorCode]), [['c7', 0]]);
    assert.deepEqual(broker.store.listTopics().map((t) => t.name), []);
    client.close();
  }, { defaultPartitions: 4 });
});

test('streamwatch broker on a port in use: one error line, exit 1', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-broker-port-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const first = await spawnBroker(['--data-dir', join(dataDir, 'a')]);
  t.after(() => ensureStopped(first));
  const second = await run(nodeBin, [cliPath, 'broker', '--port', String(first.port), '--data-dir', join(dataDir, 'b')]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE.* \[SW_ERR_BROKER_START\]/);
  assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
});

test('deep pipelines: thousands of requests in one write, and more long polls than the in-flight limit, all answered in order', async () => {
  await withBroker(async (broker) => {
    await broker.store.createTopic('deep', 1);
    const client = await RawClient.connect(broker.port);
    try {
      const many = Array.from({ length: 3000 }, (_, i) => RawClient.frame(apiVersions, 2, {}, i + 1));
      client.socket.write(Buffer.concat(many));
      for (let i = 1; i <= 3000; i++) assert.equal((await client.receive(apiVersions, 2)).correlationId, i);
      // 300 long polls (limit 256 in flight) followed by one quick request.
      const polls = Array.from({ length: 300 }, (_, i) => RawClient.frame(fetch, 11, { maxWaitMs: 100, minBytes: 1, topics: [{ topic: 'deep', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }] }, 10_000 + i));
      client.socket.write(Buffer.concat([...polls, RawClient.frame(apiVersions, 2, {}, 99_999)]));
      for (let i = 0; i < 300; i++) assert.equal((await client.receive(fetch, 11)).correlationId, 10_000 + i);
      assert.equal((await client.receive(apiVersions, 2)).correlationId, 99_999);
    } finally {
      client.close();
    }
  });
});

test('onRequest: the broker reports each answered request with its API name, duration and whether it carried an error', async () => {
  const seen: Array<{ api: string; seconds: number; failed: boolean }> = [];
  await withBroker(async (broker) => {
    const client = await RawClient.connect(broker.port);
    try {
      await client.request(apiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
      await client.request(metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const beat = await client.request(heartbeat, 4, { groupId: 'no-such-group', generationId: 1, memberId: 'nobody', groupInstanceId: null });
      assert.notEqual(beat.errorCode, 0);
    } finally {
      client.close();
    }
  }, { onRequest: (api, seconds, failed) => seen.push({ api, seconds, failed }) });
  assert.deepEqual(seen.map((s) => [s.api, s.failed]), [['ApiVersions', false], ['Metadata', false], ['Heartbeat', true]]);
  for (const s of seen) assert.ok(s.seconds >= 0 && s.seconds < 60, `duration ${s.seconds}`);
});

test('broker --metrics-port: /metrics counts the requests answered, per API, in Prometheus text', { timeout: 30_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-broker-metrics-'));
  let broker: BrokerProcess | undefined;
  try {
    broker = await spawnBroker(['--data-dir', dataDir, '--metrics-port', '0']);
    const started = broker;
    const deadline = Date.now() + 10_000;
    while (!/metrics at (http:\S+)/.test(started.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = /metrics at (http:\S+)/.exec(broker.stderr())?.[1];
    assert.ok(url, broker.stderr());
    const client = await RawClient.connect(broker.port);
    try {
      await client.request(apiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
      await client.request(metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      await client.request(metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    } finally {
      client.close();
    }
    const response = await globalThis.fetch(url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^streamwatch_broker_requests_total\{api="Metadata"\} 2$/m);
    assert.match(text, /^streamwatch_broker_requests_total\{api="ApiVersions"\} 1$/m);
    assert.match(text, /^streamwatch_broker_request_duration_seconds_count\{api="Metadata"\} 2$/m);
    broker.child.kill('SIGTERM');
    assert.equal(await broker.exited, 0);
  } finally {
    await ensureStopped(broker);
    await rm(dataDir, { recursive: true, force: true });
  }
});
