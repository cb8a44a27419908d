// Runs the real streamwatch CLI as a child process for the storage tests:
// collects its output, waits for a line on stderr, kills it on cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath, nodeBin } from '../../../broker/helpers/process.ts';

export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches, rejects if the process ends first or the time runs out. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Exit code, or the signal name. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): CliProcess {
  const child = spawn(nodeBin, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DATABASE_URL: '', ...env } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  void exited.then(() => clearTimeout(guard));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForStderr(pattern: RegExp, waitMs = 30_000): Promise<void> {
      const deadline = Date.now() + waitMs;
      let ended = false;
      void exited.then(() => (ended = true));
      while (!pattern.test(err)) {
        if (ended) throw new Error(`process ended before ${pattern}: ${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const cli = spawnCli(args, env, timeoutMs);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
