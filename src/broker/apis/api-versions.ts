// ApiVersions (key 18), v0-3: the first request of every client; tells it
// which versions of each API this broker speaks.
//
//   ApiVersionsRequest  => [client_software_name client_software_version]   (v3+, compact strings)
//   ApiVersionsResponse => error_code [api_key min_version max_version] throttle_time_ms(v1+)
//
// The response header is always v0 (see protocol/headers.ts). A too-new
// request gets UNSUPPORTED_VERSION with a v0-shaped body listing our range,
// so the client can retry with a version we know (the server builds it with
// unsupportedVersionBody below).
import { f } from '../protocol/schema.ts';
import { Writer } from '../protocol/writer.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import type { Api } from './api.ts';

export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
  throttleTimeMs: number;
}

function advertised(apis: readonly Api[]): ApiVersionsResponse['apiKeys'] {
  return apis.map((api) => ({ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion })).sort((a, b) => a.apiKey - b.apiKey);
}

export const apiVersions = defineApi<ApiVersionsRequest, ApiVersionsResponse>({
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request: [
    f('clientSoftwareName', 'string', '3+'),
    f('clientSoftwareVersion', 'string', '3+'),
  ],
  response: [
    f('errorCode', 'int16', '0+'),
    f('apiKeys', '[]', '0+', [
      f('apiKey', 'int16', '0+'),
      f('minVersion', 'int16', '0+'),
      f('maxVersion', 'int16', '0+'),
    ]),
    f('throttleTimeMs', 'int32', '1+'),
  ],
  handle(_request, broker) {
    return { errorCode: 0, apiKeys: advertised(broker.apis), throttleTimeMs: 0 };
  },
});

/** Body of the answer to a too-new ApiVersions: v0 layout, error 35, our range. */
export function unsupportedVersionBody(apis: readonly Api[]): Buffer[] {
  const writer = new Writer();
  writer.int16(KafkaError.UNSUPPORTED_VERSION);
  const keys = advertised(apis);
  writer.int32(keys.length);
  for (const key of keys) writer.int16(key.apiKey).int16(key.minVersion).int16(key.maxVersion);
  return writer.finish();
}
