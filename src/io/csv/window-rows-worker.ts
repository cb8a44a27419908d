// The helper thread of WindowRows.writeTo: prints the chunks of the output
// it is asked for (window-text.ts) and hands each text back without copying.
// It may be started before the rows are all there (WindowRows.warmUp), so
// it is given what to print in a first message, then answers 'ready'. It
// reads the spill file through the main thread's descriptor (positional
// reads, so both threads can read it at once) and the last block from
// shared memory.
import { parentPort } from 'node:worker_threads';
import { PieceFormatter, textBuffer } from './window-text.ts';
import type { HelperInit, HelperReply, HelperRequest } from './window-rows.ts';

const port = parentPort!;

port.once('message', (init: HelperInit) => {
  const formatter = new PieceFormatter(init.text);
  port.on('message', ({ chunk, spare }: HelperRequest) => {
    const { text, length } = formatter.format(init.items, init.chunks[chunk]!, init.chunks[chunk + 1]!, init.source, textBuffer(spare, init.textBytes));
    const reply: HelperReply = { chunk, text: text.buffer as ArrayBuffer, length };
    port.postMessage(reply, [reply.text]);
  });
  port.postMessage('ready');
});
