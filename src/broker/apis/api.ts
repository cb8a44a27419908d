// What every API module provides: its key, the advertised version range, the
// first flexible version, the request and response field tables and the
// handler. The server looks modules up by key and does the rest generically.
import type { Field, Struct } from '../protocol/schema.ts';
import type { BrokerContext, ConnectionInfo } from './context.ts';

export interface RequestInfo {
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  connection: ConnectionInfo;
}

export interface Api<Request = Struct, Response = Struct> {
  readonly key: number;
  readonly name: string;
  /** Advertised range; anything outside gets UNSUPPORTED_VERSION. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First version using compact lengths and tagged fields (KIP-482). */
  readonly flexibleFrom: number;
  readonly request: readonly Field[];
  readonly response: readonly Field[];
  /** Returns the response, or null to send nothing (Produce with acks=0). */
  handle(request: Request, broker: BrokerContext, info: RequestInfo): Response | null | Promise<Response | null>;
  /** The response to a request that failed as a whole with `errorCode` (optional; a generic one is built otherwise). */
  errorResponse?(request: Request, errorCode: number, info: RequestInfo): Response;
}

/** Erases an API's request/response types so modules can sit in one table. */
export function defineApi<Request, Response>(api: Api<Request, Response>): Api {
  return api as unknown as Api;
}
