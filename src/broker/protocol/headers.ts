// Request header v1/v2 and response header v0/v1. A flexible request version
// uses header v2 (v1 plus tagged fields; client_id stays a classic INT16
// string); its response uses header v1. ApiVersions is the exception: its
// response header is always v0, because a client reads it before it knows
// which versions the broker speaks (librdkafka fails with "Bad message
// format" otherwise).
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export const API_VERSIONS_KEY = 18;

/** Reads the fixed part of the header (v1); the caller reads the tagged block if the version is flexible. */
export function readRequestHeader(reader: Reader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Header v2 adds a tagged-field block; nothing in it is used. */
export function skipHeaderTags(reader: Reader): void {
  reader.taggedFields();
}

export function writeResponseHeader(writer: Writer, apiKey: number, correlationId: number, flexible: boolean): void {
  writer.int32(correlationId);
  if (flexible && apiKey !== API_VERSIONS_KEY) writer.uvarint(0);
}
