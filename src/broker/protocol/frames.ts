// Splits a TCP byte stream into Kafka request frames (INT32 size, then that
// many bytes). A size below the smallest header or above the configured
// limit is a protocol error: the caller closes the connection instead of
// buffering an attacker-chosen amount of memory.
import { ProtocolError } from './errors.ts';

/** The smallest request header: api key, version, correlation id, client id length. */
const MIN_FRAME = 10;

export class FrameSplitter {
  private readonly maxFrameBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Adds received bytes and returns every frame now complete (without the size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    while (this.pendingBytes >= 4) {
      let head = this.pending[0] as Buffer;
      if (head.length < 4) {
        head = Buffer.concat(this.pending);
        this.pending = [head];
      }
      const size = head.readInt32BE(0);
      if (size < MIN_FRAME) throw new ProtocolError(`frame size ${size} is too small`);
      if (size > this.maxFrameBytes) throw new ProtocolError(`frame size ${size} exceeds --max-request-bytes ${this.maxFrameBytes}`);
      if (this.pendingBytes < size + 4) break;
      if (head.length < size + 4) {
        head = Buffer.concat(this.pending, this.pendingBytes);
        this.pending = [head];
      }
      frames.push(head.subarray(4, size + 4));
      const rest = head.subarray(size + 4);
      this.pending[0] = rest;
      this.pendingBytes -= size + 4;
      if (rest.length === 0) this.pending.shift();
    }
    return frames;
  }
}
