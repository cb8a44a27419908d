// Every handler, without a socket, on the requests the real clients sent
// (the captured fixtures): the answer must encode at the client's version
// and decode back completely. A handler that returns null where a version
// forbids it, or a field the table does not know, fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apisByKey, allApis } from '../../../src/broker/apis/index.ts';
import type { BrokerContext, ConnectionInfo } from '../../../src/broker/apis/context.ts';
import { openBrokerStore } from '../../../src/broker/storage/index.ts';
import { GroupCoordinator } from '../../../src/broker/groups/coordinator.ts';
import { systemScheduler } from '../../../src/broker/groups/clock.ts';
import { Reader } from '../../../src/broker/protocol/reader.ts';
import { Writer, concat } from '../../../src/broker/protocol/writer.ts';
import { readRequestHeader, skipHeaderTags } from '../../../src/broker/protocol/headers.ts';
import { decodeStruct, encodeStruct } from '../../../src/broker/protocol/schema.ts';
import type { Struct } from '../../../src/broker/protocol/schema.ts';

const fixtureDir = new URL('../fixtures/', import.meta.url);

test('every handler answers every captured client request with an encodable response', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-handlers-'));
  const store = await openBrokerStore(dataDir, { fsync: 'never' });
  const groups = new GroupCoordinator({ scheduler: systemScheduler, initialRebalanceDelayMs: 0, groupsWithOffsets: () => store.listGroupsWithOffsets() });
  const lines: string[] = [];
  const broker: BrokerContext = {
    store,
    groups,
    settings: { nodeId: 0, clusterId: 'test', defaultPartitions: 2, autoCreateTopics: true, advertisedHost: undefined, advertisedPort: undefined },
    apis: allApis,
    allocateProducerId: () => store.allocateProducerId(),
    log: (line) => lines.push(line),
  };
  const closed = new AbortController();
  const connection: ConnectionInfo = { id: 1, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 9092, closed: closed.signal };
  try {
    // Topics the fixtures name, so produce/fetch/commit reach real partitions.
    for (const name of ['fx', 'kjs-t', 'plt-t', 'kg', 'plt-g']) await store.createTopic(name, 2);
    const names = readdirSync(fixtureDir).filter((name) => name.endsWith('.hex')).sort();
    for (const name of names) {
      const frame = Buffer.from(readFileSync(new URL(name, fixtureDir), 'utf8').trim(), 'hex');
      const reader = new Reader(frame);
      const header = readRequestHeader(reader);
      const api = apisByKey.get(header.apiKey);
      assert.ok(api);
      const flexible = header.apiVersion >= api.flexibleFrom;
      if (flexible) skipHeaderTags(reader);
      const request = decodeStruct(api.request, reader, header.apiVersion, flexible);
      // Long polls would only slow the test down.
      if (api.name === 'Fetch') request.maxWaitMs = 0;
      const response = await api.handle(request, broker, { apiVersion: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, connection });
      if (response === null) {
        assert.equal(api.name, 'Produce', `${name}: only Produce with acks=0 answers nothing`);
        continue;
      }
      const writer = new Writer();
      encodeStruct(api.response, response, writer, header.apiVersion, flexible);
      const bytes = concat(writer.finish());
      const back = new Reader(bytes);
      const decoded: Struct = decodeStruct(api.response, back, header.apiVersion, flexible);
      assert.equal(back.remaining, 0, `${name}: response decodes to the end`);
      if ('errorCode' in decoded && api.name === 'ApiVersions') assert.equal(decoded.errorCode, 0);
    }
    assert.deepEqual(lines.filter((line) => /failed/.test(line)), []);
  } finally {
    closed.abort();
    groups.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
