// One client connection: splits frames, decodes each request with its API's
// field table, runs the handler and writes the responses back in request
// order. Handlers start as soon as their request arrives (so pipelined
// Produce requests reach storage in order and share one group-commit fsync),
// but a response waits until every earlier one on the connection is sent.
// Whatever is ready is written with one corked burst (a single writev).
//
// Any grammar violation, unknown API key or handler failure closes this
// connection only, with one log line; the client reconnects and retries.
import type { Socket } from 'node:net';
import { ProtocolError, KafkaError } from './protocol/errors.ts';
import { FrameSplitter } from './protocol/frames.ts';
import { API_VERSIONS_KEY, readRequestHeader, skipHeaderTags, writeResponseHeader } from './protocol/headers.ts';
import type { RequestHeader } from './protocol/headers.ts';
import { Reader } from './protocol/reader.ts';
import { decodeStruct, encodeStruct } from './protocol/schema.ts';
import type { Struct } from './protocol/schema.ts';
import { Writer } from './protocol/writer.ts';
import type { Api, RequestInfo } from './apis/api.ts';
import { unsupportedVersionBody } from './apis/api-versions.ts';
import type { BrokerContext, ConnectionInfo } from './apis/context.ts';

/** Requests started but not yet answered before we stop starting more (and stop reading). */
const MAX_IN_FLIGHT = 256;

interface Slot {
  /** null while the handler runs; [] for "no response" (acks=0). */
  chunks: Buffer[] | null;
  /** performance.now() when the request was read, for the request-duration callback. */
  started: number;
}

export class Connection {
  readonly info: ConnectionInfo;
  private readonly socket: Socket;
  private readonly broker: BrokerContext;
  private readonly apis: ReadonlyMap<number, Api>;
  private readonly splitter: FrameSplitter;
  private readonly closer = new AbortController();
  private readonly queue: Slot[] = [];
  /** Frames received but not started yet (see startBacklog). */
  private readonly backlog: Buffer[] = [];
  private backlogStart = 0;
  private starting = false;
  private paused = false;
  private waitingForDrain = false;
  private closed = false;

  constructor(socket: Socket, id: number, broker: BrokerContext, apis: ReadonlyMap<number, Api>, maxRequestBytes: number) {
    this.socket = socket;
    this.broker = broker;
    this.apis = apis;
    this.splitter = new FrameSplitter(maxRequestBytes);
    this.info = {
      id,
      remoteAddress: socket.remoteAddress ?? 'unknown',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '127.0.0.1',
      localPort: socket.localPort ?? 0,
      closed: this.closer.signal,
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.updateFlow();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Closes the connection; a reason makes it a logged "bad connection". */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    // One line per bad connection, even when the reason carries a stack trace.
    if (reason !== undefined) this.broker.log(`closing connection #${this.info.id} from ${this.info.remoteAddress}:${this.info.remotePort}: ${reason.replace(/\s*\n\s*/g, ' | ')}`);
    this.closer.abort();
    this.queue.length = 0;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const frame of this.splitter.push(chunk)) this.backlog.push(frame);
    } catch (error) {
      this.close((error as Error).message);
      return;
    }
    this.updateFlow();
  }

  /** True while no new request may start: too many unanswered, or the client is not reading. */
  private get congested(): boolean {
    return this.waitingForDrain || this.queue.length >= MAX_IN_FLIGHT;
  }

  /**
   * Starts the requests received so far, in order, until the connection is
   * congested. One TCP chunk can hold hundreds of small requests; holding
   * them here bounds what a client that does not read its answers can make
   * the broker buffer.
   */
  private startBacklog(): void {
    // A handler that answers synchronously flushes, which calls back here: the outer loop carries on instead.
    if (this.starting) return;
    this.starting = true;
    try {
      while (this.backlogStart < this.backlog.length && !this.closed && !this.congested) {
        const frame = this.backlog[this.backlogStart++] as Buffer;
        try {
          this.onFrame(frame);
        } catch (error) {
          this.close(error instanceof ProtocolError ? error.message : `internal error: ${(error as Error)?.stack ?? String(error)}`);
          return;
        }
      }
      if (this.backlogStart === this.backlog.length) {
        this.backlog.length = 0;
        this.backlogStart = 0;
      }
    } finally {
      this.starting = false;
    }
  }

  private onFrame(frame: Buffer): void {
    const reader = new Reader(frame);
    const header = readRequestHeader(reader);
    const api = this.apis.get(header.apiKey);
    if (!api) throw new ProtocolError(`unknown API key ${header.apiKey} (version ${header.apiVersion})`);
    if (header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion) {
      this.answerUnsupported(api, header);
      return;
    }
    const flexible = header.apiVersion >= api.flexibleFrom;
    if (flexible) skipHeaderTags(reader);
    let request: Struct;
    try {
      request = decodeStruct(api.request, reader, header.apiVersion, flexible);
    } catch (error) {
      if (error instanceof ProtocolError) throw new ProtocolError(`${api.name} v${header.apiVersion}: ${error.message}`);
      throw error;
    }
    const slot: Slot = { chunks: null, started: this.broker.onRequest ? performance.now() : 0 };
    this.queue.push(slot);
    const info: RequestInfo = { apiVersion: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, connection: this.info };
    const result = api.handle(request, this.broker, info);
    if (result instanceof Promise) {
      result.then(
        (response) => {
          try {
            this.complete(slot, api, header, flexible, response);
          } catch (error) {
            // An answer that cannot be encoded is a bug; it must not become an unhandled rejection.
            this.close(`internal error answering ${api.name} v${header.apiVersion}: ${(error as Error)?.stack ?? String(error)}`);
          }
        },
        (error: unknown) => this.close(`${api.name} failed: ${(error as Error)?.stack ?? String(error)}`),
      );
    } else {
      this.complete(slot, api, header, flexible, result);
    }
  }

  /**
   * Too old or too new a version. ApiVersions answers UNSUPPORTED_VERSION in
   * the v0 layout so the client can retry lower. Other APIs answer it when
   * their response at that version has a top-level error_code; otherwise no
   * valid answer exists and the connection is closed, as Kafka does.
   */
  private answerUnsupported(api: Api, header: RequestHeader): void {
    const slot: Slot = { chunks: null, started: this.broker.onRequest ? performance.now() : 0 };
    this.queue.push(slot);
    if (api.key === API_VERSIONS_KEY) {
      const writer = new Writer(16);
      writer.int32(0).int32(header.correlationId);
      for (const chunk of unsupportedVersionBody(this.broker.apis)) writer.raw(chunk);
      this.finishResponse(slot, writer);
      return;
    }
    const errorField = api.response.find((field) => field.name === 'errorCode' && header.apiVersion >= field.min && header.apiVersion <= field.max);
    if (!errorField || header.apiVersion < 0) {
      throw new ProtocolError(`${api.name} v${header.apiVersion} is not supported (${api.minVersion}-${api.maxVersion})`);
    }
    this.broker.log(`connection #${this.info.id}: ${api.name} v${header.apiVersion} is not supported (${api.minVersion}-${api.maxVersion}), answered UNSUPPORTED_VERSION`);
    this.complete(slot, api, header, header.apiVersion >= api.flexibleFrom, { errorCode: KafkaError.UNSUPPORTED_VERSION });
  }

  private complete(slot: Slot, api: Api, header: RequestHeader, flexible: boolean, response: Struct | null): void {
    if (this.closed) return;
    this.broker.onRequest?.(api.name, (performance.now() - slot.started) / 1000, typeof response?.errorCode === 'number' && response.errorCode !== 0);
    if (response === null) {
      slot.chunks = [];
      this.flush();
      return;
    }
    const writer = new Writer(256);
    writer.int32(0);
    writeResponseHeader(writer, api.key, header.correlationId, flexible);
    encodeStruct(api.response, response, writer, header.apiVersion, flexible);
    this.finishResponse(slot, writer);
  }

  /** Patches the size prefix (the writer's first four bytes) and queues the frame. */
  private finishResponse(slot: Slot, writer: Writer): void {
    const size = writer.length - 4;
    const chunks = writer.finish();
    (chunks[0] as Buffer).writeInt32BE(size, 0);
    slot.chunks = chunks;
    this.flush();
  }

  /** Writes every response that is ready and has no unanswered request before it. */
  private flush(): void {
    if (this.closed) return;
    let corked = false;
    while (this.queue.length > 0 && (this.queue[0] as Slot).chunks !== null) {
      const slot = this.queue.shift() as Slot;
      for (const chunk of slot.chunks as Buffer[]) {
        if (!corked) {
          this.socket.cork();
          corked = true;
        }
        if (!this.socket.write(chunk)) this.waitingForDrain = true;
      }
    }
    if (corked) this.socket.uncork();
    this.updateFlow();
  }

  /** Stops reading while too much is in flight or the socket's send buffer is full. */
  private updateFlow(): void {
    if (this.closed) return;
    this.startBacklog();
    if (this.closed) return;
    // Read more only when everything received has started and there is room.
    const stop = this.congested || this.backlog.length > 0;
    if (stop && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!stop && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
