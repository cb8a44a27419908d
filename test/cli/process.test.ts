// Process plumbing of the command: any command's output piped into a reader
// that has gone away (`| head`) ends quietly with status 0, as other
// command-line tools do; and signals reach the command through the wrapper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('a command whose reader is gone before it writes exits 0 without a word', async () => {
  const child = spawn(`${root}node_modules/.bin/node`, [`${root}bin/streamwatch.js`, 'topics', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Closed before the command starts writing (starting takes far longer than this).
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

// Where the system Node is too old, bin/streamwatch.js runs the command under the project's Node 24
// as a child; a SIGTERM sent to that wrapper alone (kill, timeout) must reach the command.
const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
  try {
    const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    const [major = 0, minor = 0] = version.split('.').map(Number);
    return version !== '' && (major < 22 || (major === 22 && minor < 22));
  } catch {
    return false;
  }
});

test('under an old system Node, SIGTERM to the wrapper stops the real command cleanly', { skip: systemNode ? false : 'no system Node older than 22.22 here (the wrapper only re-executes under one)', timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamwatch-wrapper-'));
  try {
    const child = spawn(systemNode!, [`${root}bin/streamwatch.js`, 'broker', '--port', '0', '--data-dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const deadline = Date.now() + 40_000;
    while (!stderr.includes('listening on') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /listening on/);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM, stopping[\s\S]*stopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
