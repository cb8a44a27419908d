// Client options shared by every Kafka client of the project, and the
// translation of @platformatic/kafka errors into our catalogue: a broker that
// does not answer becomes one SW_ERR_BROKER_UNREACHABLE line naming the
// addresses tried, anything else one SW_ERR_KAFKA line naming the action.

import { StreamwatchError } from '../errors.ts';

export interface ClientConfig {
  /** host:port list, as `brokers()` of src/cli/args.ts returns it. */
  brokers: readonly string[];
  clientId?: string;
  /** How long to wait for a TCP connection (ms). Kept short so a missing broker is reported quickly. */
  connectTimeoutMs?: number;
  /** How long one request may take (ms). */
  requestTimeoutMs?: number;
  /** Retries of a failed request; 0 when the caller wants an immediate answer. */
  retries?: number;
}

export interface BaseClientOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  retries: number;
  retryDelay: number;
}

export function baseOptions(config: ClientConfig, defaultClientId: string): BaseClientOptions {
  return {
    clientId: config.clientId ?? defaultClientId,
    bootstrapBrokers: [...config.brokers],
    connectTimeout: config.connectTimeoutMs ?? 3000,
    requestTimeout: config.requestTimeoutMs ?? 30_000,
    retries: config.retries ?? 3,
    retryDelay: 250,
  };
}

interface ErrorLike {
  message?: string;
  code?: string;
  errors?: unknown[];
  cause?: unknown;
}

/** Error codes of the client that mean no broker could be reached at all. */
function isUnreachable(error: unknown): boolean {
  const e = error as ErrorLike | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code === 'PLT_KFK_NETWORK') return true;
  if (e.code === 'PLT_KFK_MULTIPLE' && Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every(isUnreachable);
  return false;
}

/** The innermost message of a (possibly nested) client error: `connect ECONNREFUSED 127.0.0.1:9` rather than `Cannot connect to any broker.` */
export function rootMessage(error: unknown): string {
  let current = error as ErrorLike | null;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    if (Array.isArray(current.errors) && current.errors.length > 0) current = current.errors[0] as ErrorLike;
    else if (current.cause && typeof current.cause === 'object') current = current.cause as ErrorLike;
    else break;
  }
  const message = (current?.message ?? String(error)).replace(/\s+/g, ' ').trim();
  return message.replace(/\.$/, '');
}

/** Converts any failure of the client into a one-line StreamwatchError (kept as `cause`). */
export function kafkaError(error: unknown, action: string, brokers: readonly string[]): StreamwatchError {
  if (error instanceof StreamwatchError) return error;
  if (isUnreachable(error)) {
    return new StreamwatchError('SW_ERR_BROKER_UNREACHABLE', `no Kafka broker answered at ${brokers.join(',')} (${rootMessage(error)})`, { cause: error });
  }
  return new StreamwatchError('SW_ERR_KAFKA', `${action}: ${rootMessage(error)}`, { cause: error });
}
