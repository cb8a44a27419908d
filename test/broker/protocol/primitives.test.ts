// Wire primitives: every writer method read back by the reader, varints at
// their edges, and truncation reported as ProtocolError (never a RangeError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader } from '../../../src/broker/protocol/reader.ts';
import { Writer, concat } from '../../../src/broker/protocol/writer.ts';
import { ProtocolError } from '../../../src/broker/protocol/errors.ts';

function bytesOf(write: (writer: Writer) => void): Buffer {
  const writer = new Writer(8);
  write(writer);
  return concat(writer.finish());
}

test('fixed-width integers round trip, int64 exactly below 2^53', () => {
  fc.assert(fc.property(fc.integer({ min: -128, max: 127 }), fc.integer({ min: -32768, max: 32767 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.maxSafeInteger(), fc.boolean(), (i8, i16, i32, i64, flag) => {
      const buffer = bytesOf((w) => w.int8(i8).int16(i16).int32(i32).int64(i64).int64(-i64).bool(flag));
      const reader = new Reader(buffer);
      assert.deepEqual([reader.int8(), reader.int16(), reader.int32(), reader.int64(), reader.int64(), reader.bool()], [i8, i16, i32, i64, -i64 || 0, flag]);
      assert.equal(reader.remaining, 0);
    }));
});

test('int64 -1 and the big-endian layout match Kafka', () => {
  assert.equal(bytesOf((w) => w.int64(-1)).toString('hex'), 'ffffffffffffffff');
  assert.equal(bytesOf((w) => w.int64(4294967296 + 5)).toString('hex'), '0000000100000005');
});

test('varints: zigzag encoding as in the Kafka docs, round trips at the edges', () => {
  assert.equal(bytesOf((w) => w.varint(0)).toString('hex'), '00');
  assert.equal(bytesOf((w) => w.varint(-1)).toString('hex'), '01');
  assert.equal(bytesOf((w) => w.varint(1)).toString('hex'), '02');
  assert.equal(bytesOf((w) => w.varint(-64)).toString('hex'), '7f');
  assert.equal(bytesOf((w) => w.varint(64)).toString('hex'), '8001');
  assert.equal(bytesOf((w) => w.uvarint(300)).toString('hex'), 'ac02');
  for (const value of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 12345, -98765]) {
    assert.equal(new Reader(bytesOf((w) => w.varint(value))).varint(), value);
  }
  for (const value of [0, 1, 127, 128, 2 ** 32 - 1]) assert.equal(new Reader(bytesOf((w) => w.uvarint(value))).uvarint(), value);
  fc.assert(fc.property(fc.maxSafeInteger(), (value) => {
    assert.equal(new Reader(bytesOf((w) => w.varlong(value))).varlong(), value);
    assert.equal(new Reader(bytesOf((w) => w.varlong(-value))).varlong(), -value || 0);
  }));
});

test('strings and bytes: classic and compact, null and empty are different', () => {
  fc.assert(fc.property(fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { nil: null }), fc.option(fc.uint8Array({ maxLength: 100 }), { nil: null }), (text, raw) => {
    const bytes = raw === null ? null : Buffer.from(raw);
    const buffer = bytesOf((w) => w.nullableString(text).compactNullableString(text).nullableBytes(bytes, false).nullableBytes(bytes, true));
    const reader = new Reader(buffer);
    assert.equal(reader.nullableString(), text);
    assert.equal(reader.compactNullableString(), text);
    assert.deepEqual(reader.nullableBytes(), bytes);
    assert.deepEqual(reader.compactNullableBytes(), bytes);
    assert.equal(reader.remaining, 0);
  }));
  assert.equal(bytesOf((w) => w.compactNullableString(null)).toString('hex'), '00');
  assert.equal(bytesOf((w) => w.compactNullableString('')).toString('hex'), '01');
  assert.equal(bytesOf((w) => w.nullableString(null)).toString('hex'), 'ffff');
});

test('large byte strings are passed by reference, not copied', () => {
  const big = Buffer.alloc(100_000, 7);
  const writer = new Writer();
  writer.int32(1).nullableBytes([big, big], false).int16(2);
  const chunks = writer.finish();
  assert.ok(chunks.some((chunk) => chunk === big));
  const reader = new Reader(concat(chunks));
  assert.equal(reader.int32(), 1);
  assert.equal(reader.nullableBytes()?.length, 200_000);
  assert.equal(reader.int16(), 2);
});

test('UUIDs read and write as 32 hex digits', () => {
  const id = '0123456789abcdef0123456789abcdef';
  assert.equal(new Reader(bytesOf((w) => w.uuid(id))).uuid(), id);
  assert.equal(new Reader(bytesOf((w) => w.uuid('01234567-89ab-cdef-0123-456789abcdef'))).uuid(), id);
});

test('every read past the end throws ProtocolError', () => {
  const buffer = bytesOf((w) => w.int32(5).nullableString('hello').nullableBytes(Buffer.from('abc'), true).arrayLength(3, false).int32(1));
  for (let cut = 0; cut < buffer.length; cut++) {
    const reader = new Reader(buffer.subarray(0, cut));
    assert.throws(() => {
      reader.int32(); reader.nullableString(); reader.compactNullableBytes();
      const n = reader.arrayLength(false);
      for (let i = 0; i < n; i++) reader.int32();
      reader.int32();
    }, ProtocolError);
  }
});

test('lying lengths are rejected before allocating', () => {
  assert.throws(() => new Reader(Buffer.from('7fffffff', 'hex')).arrayLength(false), ProtocolError);
  assert.throws(() => new Reader(Buffer.from('fffffffe', 'hex')).arrayLength(false), ProtocolError);
  assert.throws(() => new Reader(Buffer.from('fffe', 'hex')).nullableString(), ProtocolError);
  assert.throws(() => new Reader(Buffer.from('ffffffffff7f', 'hex')).uvarint(), ProtocolError);
});
