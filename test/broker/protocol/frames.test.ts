// Frame splitting: any cut of the byte stream yields the same frames; bad
// sizes are protocol errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameSplitter } from '../../../src/broker/protocol/frames.ts';
import { ProtocolError } from '../../../src/broker/protocol/errors.ts';

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

test('frames come out whole whatever the chunking', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 10, maxLength: 300 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (bodies, cutSeeds) => {
    const stream = Buffer.concat(bodies.map((body) => frame(Buffer.from(body))));
    const cuts = [...new Set(cutSeeds.map((seed) => seed % stream.length))].sort((a, b) => a - b);
    const splitter = new FrameSplitter(1000);
    const out: Buffer[] = [];
    let at = 0;
    for (const cut of [...cuts, stream.length]) {
      out.push(...splitter.push(stream.subarray(at, cut)));
      at = cut;
    }
    assert.deepEqual(out.map((b) => b.toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')));
    assert.equal(splitter.buffered, 0);
  }));
});

test('a frame above --max-request-bytes is refused as soon as its size is known', () => {
  const splitter = new FrameSplitter(100);
  assert.throws(() => splitter.push(Buffer.from('00000065', 'hex')), /exceeds --max-request-bytes 100/);
});

test('negative and too-small sizes are protocol errors', () => {
  assert.throws(() => new FrameSplitter(100).push(Buffer.from('ffffffff', 'hex')), ProtocolError);
  assert.throws(() => new FrameSplitter(100).push(Buffer.from('00000003', 'hex')), ProtocolError);
});
