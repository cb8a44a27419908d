// `streamwatch dashboard` as a user runs it: the real CLI in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');

/** Starts the dashboard, waits for the line naming its URL. */
async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string; stop(): Promise<{ code: number | null; stderr: string }> }> {
  const child = spawn(node, ['bin/streamwatch.js', 'dashboard', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${stderr}`)), 15_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /streamwatch dashboard: (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(() => reject(new Error(`exited early: ${stderr}`)));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      return { code, stderr };
    },
  };
}

test('dashboard --no-kafka --port 0: serves, answers health and metrics, stops on SIGTERM with status 0', { timeout: 30_000 }, async () => {
  const cli = await startCli(['--no-kafka', '--port', '0']);
  try {
    assert.equal((await fetch(`${cli.url}/livez`)).status, 200);
    assert.equal((await fetch(`${cli.url}/readyz`)).status, 200);
    assert.match(await (await fetch(`${cli.url}/metrics`)).text(), /# TYPE streamwatch_input_records_total counter/);
    assert.deepEqual(await (await fetch(`${cli.url}/api/search?q=x`)).json(), { error: 'storage not connected' });
  } finally {
    const { code, stderr } = await cli.stop();
    assert.equal(code, 0, stderr);
  }
});

test('dashboard with STREAMWATCH_TOKEN: requests without it get 401', { timeout: 30_000 }, async () => {
  const cli = await startCli(['--no-kafka', '--port', '0'], { STREAMWATCH_TOKEN: 'tok-123' });
  try {
    assert.equal((await fetch(`${cli.url}/livez`)).status, 401);
    assert.equal((await fetch(`${cli.url}/livez`, { headers: { authorization: 'Bearer tok-123' } })).status, 200);
  } finally {
    await cli.stop();
  }
});

test('dashboard usage errors: exposed without a token, bad port, bad webhook URL', () => {
  const env = { ...process.env };
  delete env.STREAMWATCH_TOKEN;
  for (const [args, pattern] of [
    [['--host', '0.0.0.0', '--no-kafka'], /--host 0\.0\.0\.0 exposes the dashboard.*--token/],
    [['--port', 'eighty'], /--port: 'eighty' is not a valid value/],
    [['--webhook', 'ftp://x', '--no-kafka'], /--webhook: 'ftp:\/\/x' must be http or https/],
  ] as const) {
    const result = spawnSync(node, ['bin/streamwatch.js', 'dashboard', ...args], { cwd: root, env, encoding: 'utf8', timeout: 15_000 });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack');
  }
});
