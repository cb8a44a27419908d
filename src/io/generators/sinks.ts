// Byte sinks for the generators: a file (opened up front, so a bad path is one
// clear error line before any work) or standard output. Both wait for 'drain'
// when the stream's buffer is full, so memory stays flat however large the
// dataset. A reader that goes away (`| head`) stops the generator quietly.
import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { StreamwatchError } from '../../errors.ts';
import type { ByteSink } from './chunk-writer.ts';

export interface StoppableSink extends ByteSink {
  /** True once the reader has gone away (EPIPE): further chunks are dropped. */
  readonly stopped: boolean;
}

function outputError(name: string, error: unknown): StreamwatchError {
  const reason = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);
  return new StreamwatchError('SW_ERR_OUTPUT', `cannot write ${name}: ${reason}`, { cause: error });
}

/** Waits for `event`, or for 'close' (a stream destroyed by an error never drains nor finishes). */
function settled(stream: Writable, event: 'drain' | 'finish'): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off(event, done);
      stream.off('close', done);
      resolve();
    };
    stream.on(event, done);
    stream.on('close', done);
  });
}

function streamSink(stream: Writable, name: string, end: boolean): StoppableSink {
  let failure: unknown;
  let stopped = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stopped = true;
    else failure ??= error;
  });
  const check = (): void => {
    if (failure !== undefined) throw outputError(name, failure);
  };
  return {
    get stopped() {
      return stopped;
    },
    async write(chunk) {
      check();
      if (stopped) return;
      if (!stream.write(chunk)) {
        await settled(stream, 'drain');
      }
      check();
    },
    async close() {
      check();
      if (stopped) return;
      if (end) {
        stream.end();
        await settled(stream, 'finish');
      } else {
        await new Promise<void>((resolve) => stream.write('', () => resolve()));
      }
      check();
    },
  };
}

/** A file, created or truncated now. */
export function fileSink(path: string): StoppableSink {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw outputError(path, error);
  }
  try {
    return streamSink(createWriteStream(path, { fd, highWaterMark: 4 << 20 }), path, true);
  } catch (error) {
    closeSync(fd);
    throw outputError(path, error);
  }
}

/** Standard output (`--out -`); left open, since the process may still print. */
export function stdoutSink(): StoppableSink {
  return streamSink(process.stdout, 'standard output', false);
}
