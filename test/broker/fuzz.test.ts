// Robustness: random, truncated and bit-flipped frames for every API key
// (and unknown keys), sent over real sockets. The broker must stay up, close
// only the offending connections, and keep every log readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { allApis } from '../../src/broker/apis/index.ts';
import { Writer, concat } from '../../src/broker/protocol/writer.ts';
import { encodeStruct } from '../../src/broker/protocol/schema.ts';
import type { Field, Struct } from '../../src/broker/protocol/schema.ts';
import { withBroker, kcat } from './helpers/broker.ts';
import type { TestBroker } from './helpers/broker.ts';

function value(field: Field, rand: () => number): unknown {
  const small = Math.floor(rand() * 5);
  switch (field.type) {
    case 'int8': case 'int16': case 'int32': return small - 1;
    case 'int64': case 'float64': return small * 1000 - 1;
    case 'bool': return small > 2;
    case 'uuid': return rand().toString(16).slice(2).padEnd(32, '0').slice(0, 32);
    case 'string': return `fuzz-${small}`;
    case 'bytes': case 'records': return Buffer.alloc(small * 20, small);
    case '[]int32': case '[]int64': return [small];
    case '[]string': return [`fuzz-${small}`];
    case '{}': return struct(field.fields, rand);
    default: return Array.from({ length: small % 3 }, () => struct(field.fields, rand));
  }
}

function struct(fields: readonly Field[], rand: () => number): Struct {
  return Object.fromEntries(fields.map((field) => [field.name, value(field, rand)]));
}

/** A well-formed request frame body (header + body), before any mutation. */
function requestBody(apiKey: number, version: number, flexible: boolean, fields: readonly Field[], rand: () => number): Buffer {
  const writer = new Writer();
  writer.int16(apiKey).int16(version).int32(Math.floor(rand() * 1e6)).nullableString('fuzzer');
  if (flexible) writer.uvarint(0);
  encodeStruct(fields, struct(fields, rand), writer, version, flexible);
  return concat(writer.finish());
}

function framed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function open(broker: TestBroker): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(broker.port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** ApiVersions v0 on a fresh connection: proves the broker still serves. */
async function alive(broker: TestBroker): Promise<boolean> {
  const socket = await open(broker);
  try {
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(Buffer.from('0000000a00120000000000070000', 'hex').subarray(0, 14));
    const reply = await Promise.race([answer, sleep(2000).then(() => Buffer.alloc(0))]);
    return reply.length >= 10 && reply.readInt32BE(4) === 7 && reply.readInt16BE(8) === 0;
  } finally {
    socket.destroy();
  }
}

test('garbage of every kind closes connections, never the broker; logs stay readable', async () => {
  await withBroker(async (broker) => {
    assert.ok(await alive(broker), 'alive before');
    const produced = await kcat(broker, ['-P', '-t', 'before-fuzz'], 'one\ntwo\nthree\n');
    assert.equal(produced.code, 0, produced.stderr);

    let seed = 1;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const frames: Buffer[] = [];
    for (const api of allApis) {
      for (let version = api.minVersion - 1; version <= api.maxVersion + 1; version++) {
        const flexible = version >= api.flexibleFrom;
        const body = requestBody(api.key, version, flexible, api.request, rand);
        // Truncated at a random point (size prefix matching the cut).
        frames.push(framed(body.subarray(0, 8 + Math.floor(rand() * (body.length - 8)))));
        // Random bytes after a valid header.
        frames.push(framed(Buffer.concat([body.subarray(0, 8), Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))])));
        // A few flipped bytes.
        const flipped = Buffer.from(body);
        for (let i = 0; i < 3; i++) flipped[8 + Math.floor(rand() * (flipped.length - 8))] ^= 1 + Math.floor(rand() * 255);
        frames.push(framed(flipped));
      }
    }
    let socket = await open(broker);
    socket.on('error', () => {});
    for (const [index, frame] of frames.entries()) {
      if (socket.destroyed || socket.readyState !== 'open') {
        socket = await open(broker);
        socket.on('error', () => {});
      }
      socket.write(frame);
      // Let the broker react now and then, so most frames meet a live connection.
      if (index % 4 === 0) await sleep(1);
    }
    socket.destroy();

    // Frames with a known outcome, each on its own connection.
    const special = [
      framed(Buffer.from('00630000000000010000', 'hex')), // unknown API key 99
      Buffer.from('7fffffff', 'hex'), // oversized claim
      Buffer.from('fffffff0', 'hex'), // negative size
    ];
    for (const frame of special) {
      const own = await open(broker);
      own.on('error', () => {});
      const closed = new Promise((resolve) => own.once('close', resolve));
      own.write(frame);
      await Promise.race([closed, sleep(2000)]);
      assert.ok(own.destroyed, `connection closed after ${frame.subarray(0, 8).toString('hex')}`);
    }

    // Property: any byte string at all, on its own connection.
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
      const raw = await open(broker);
      raw.on('error', () => {});
      raw.write(bytes);
      await sleep(2);
      raw.destroy();
    }), { numRuns: 60 });

    assert.ok(await alive(broker), 'alive after');
    // Garbage must be refused by the grammar, not by a handler crashing on it.
    assert.deepEqual(broker.logLines.filter((line) => /internal error|failed:/.test(line)), []);
    assert.ok(broker.logLines.some((line) => /closing connection/.test(line)), 'bad connections are logged');
    assert.ok(broker.logLines.some((line) => /unknown API key 99/.test(line)));
    assert.ok(broker.logLines.some((line) => /exceeds --max-request-bytes/.test(line)));

    // Every partition of every topic still reads from the start.
    for (const topic of broker.store.listTopics()) {
      for (let partition = 0; partition < topic.partitions; partition++) {
        const log = broker.store.partition(topic.name, partition);
        const read = await log?.read(log.logStartOffset, 1 << 20);
        assert.equal(read?.errorCode, 0, `${topic.name}-${partition} readable`);
      }
    }
    const consumed = await kcat(broker, ['-C', '-t', 'before-fuzz', '-o', 'beginning', '-e', '-q']);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two', 'three']);
    const after = await kcat(broker, ['-P', '-t', 'after-fuzz'], 'still\nworks\n');
    assert.equal(after.code, 0, after.stderr);
    const again = await kcat(broker, ['-C', '-t', 'after-fuzz', '-o', 'beginning', '-e', '-q']);
    assert.deepEqual(again.stdout.trim().split('\n'), ['still', 'works']);
  }, { maxRequestBytes: 1024 * 1024 });
});
