// Runs a command as a child process and measures what the benchmark reports:
// wall time and peak resident memory. Peak memory is the kernel's high-water
// mark (VmHWM in /proc/<pid>/status), polled every 20 ms while the child
// runs: it only grows, so the last value read is the peak (to within the
// child's final 20 ms). Linux only, like the machine the figures come from.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  /** Peak resident set size in bytes (0 when /proc could not be read). */
  peakBytes: number;
  status: number | null;
  stderr: string;
}

function highWaterMark(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // the child has just exited
  }
}

export function measure(command: string, args: string[], options: { cwd?: string; pollMs?: number; onStderr?: (text: string) => void } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let peakBytes = 0;
    const poll = (): void => {
      if (child.pid === undefined) return;
      const bytes = highWaterMark(child.pid);
      if (bytes !== undefined && bytes > peakBytes) peakBytes = bytes;
    };
    const timer = setInterval(poll, options.pollMs ?? 20);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      options.onStderr?.(text);
    });
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('exit', () => poll());
    child.on('close', (status) => {
      const seconds = (performance.now() - began) / 1000;
      clearInterval(timer);
      resolve({ seconds, peakBytes, status, stderr });
    });
  });
}
