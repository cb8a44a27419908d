// Runs `streamwatch broker` as a child process (the real CLI, as users run
// it) and reads the port it bound from its "listening on" log line.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const nodeBin = `${root}node_modules/.bin/node`;
export const cliPath = `${root}bin/streamwatch.js`;

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly address: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
}

export async function spawnBroker(args: readonly string[], timeoutMs = 15_000): Promise<BrokerProcess> {
  const child = spawn(nodeBin, [cliPath, 'broker', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${stderr}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on [^\s]+:(\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited (${code}) before listening: ${stderr}`));
    });
  });
  return { child, port, address: `127.0.0.1:${port}`, stderr: () => stderr, exited };
}

/** Kills the process if it is still running (test cleanup). */
export async function ensureStopped(broker: BrokerProcess | undefined): Promise<void> {
  if (!broker || broker.child.exitCode !== null || broker.child.signalCode !== null) return;
  broker.child.kill('SIGKILL');
  await broker.exited;
}
