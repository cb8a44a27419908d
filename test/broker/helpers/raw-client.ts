// A minimal Kafka client for tests: encodes requests with the broker's own
// field tables and decodes the responses, over a real socket. It lets tests
// send exact versions, pipeline requests and watch connection behaviour.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Api } from '../../../src/broker/apis/api.ts';
import { FrameSplitter } from '../../../src/broker/protocol/frames.ts';
import { Reader } from '../../../src/broker/protocol/reader.ts';
import { decodeStruct, encodeStruct } from '../../../src/broker/protocol/schema.ts';
import type { Struct } from '../../../src/broker/protocol/schema.ts';
import { Writer, concat } from '../../../src/broker/protocol/writer.ts';

export class RawClient {
  readonly socket: Socket;
  private readonly frames: Buffer[] = [];
  private waiting: ((frame: Buffer | null) => void) | undefined;
  private nextCorrelationId = 1;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    const splitter = new FrameSplitter(1 << 30);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        if (this.waiting) {
          const resolve = this.waiting;
          this.waiting = undefined;
          resolve(frame);
        } else {
          this.frames.push(frame);
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.(null);
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Encodes one request frame (header v1, or v2 for flexible versions). */
  static frame(api: Api, version: number, body: Struct, correlationId: number): Buffer {
    const flexible = version >= api.flexibleFrom;
    const writer = new Writer();
    writer.int32(0).int16(api.key).int16(version).int32(correlationId).nullableString('raw-client');
    if (flexible) writer.uvarint(0);
    encodeStruct(api.request, body, writer, version, flexible);
    const bytes = concat(writer.finish());
    bytes.writeInt32BE(bytes.length - 4, 0);
    return bytes;
  }

  /** Sends a request and returns its correlation id. */
  send(api: Api, version: number, body: Struct): number {
    const correlationId = this.nextCorrelationId++;
    this.socket.write(RawClient.frame(api, version, body, correlationId));
    return correlationId;
  }

  /** The next response frame (without size), or null when the connection closed first. */
  nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
  }

  /** Reads the next response as `api` at `version`. */
  async receive(api: Api, version: number, timeoutMs = 5000): Promise<{ correlationId: number; body: Struct }> {
    const frame = await this.nextFrame(timeoutMs);
    if (!frame) throw new Error('connection closed');
    return RawClient.decodeResponse(api, version, frame);
  }

  static decodeResponse(api: Api, version: number, frame: Buffer): { correlationId: number; body: Struct } {
    const reader = new Reader(frame);
    const correlationId = reader.int32();
    const flexible = version >= api.flexibleFrom;
    if (flexible && api.key !== 18) reader.taggedFields();
    const body = decodeStruct(api.response, reader, version, flexible);
    if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes left after ${api.name} v${version} response`);
    return { correlationId, body };
  }

  /** Sends and waits for the answer. */
  async request(api: Api, version: number, body: Struct, timeoutMs = 5000): Promise<Struct> {
    const correlationId = this.send(api, version, body);
    const response = await this.receive(api, version, timeoutMs);
    if (response.correlationId !== correlationId) throw new Error(`correlation ${response.correlationId} != ${correlationId}`);
    return response.body;
  }

  close(): void {
    this.socket.destroy();
  }
}
