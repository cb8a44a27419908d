// FileWriter: a large output is synced in the background as it is written
// (so the sync before the rename has little left); the bytes and their order
// must not suffer, and giving up while a sync is under way leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from '../../../src/io/csv/file-writer.ts';

test('FileWriter: 80 MB of lines and byte blocks arrive whole and in order, across background syncs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'out.csv');
  const out = await FileWriter.create(path);
  const expected = createHash('sha256');
  await out.writeLine('header');
  expected.update('header\n');
  for (let i = 0; i < 80; i++) {
    const block = Buffer.alloc(1 << 20, 97 + (i % 26));
    block[block.length - 1] = 10;
    await out.writeBytes(block);
    expected.update(block);
    const line = `after block ${i}`;
    const pending = out.writeLine(line);
    if (pending) await pending;
    expected.update(`${line}\n`);
  }
  assert.ok(!existsSync(path), 'nothing at the final path before close');
  await out.close();
  assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), expected.digest('hex'));
  assert.deepEqual(readdirSync(dir), ['out.csv'], 'no temporary file left');
});

test('FileWriter: abort while a background sync may be under way removes the temporary file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = await FileWriter.create(join(dir, 'out.csv'));
  for (let i = 0; i < 40; i++) await out.writeBytes(Buffer.alloc(1 << 20, 10));
  await out.abort();
  assert.deepEqual(readdirSync(dir), []);
});
