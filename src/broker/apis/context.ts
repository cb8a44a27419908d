// What a handler may use: the storage, the group coordinator, the broker's
// settings and the connection the request came on. Handlers get it as a
// parameter, so they can be tested without a socket.
import type { BrokerStore, TopicInfo } from '../storage/types.ts';
import type { GroupCoordinatorApi } from '../groups/types.ts';
import type { Api } from './api.ts';

export interface ConnectionInfo {
  /** Sequence number of the connection, for log lines. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The address the client reached us on: advertised in Metadata/FindCoordinator. */
  readonly localAddress: string;
  readonly localPort: number;
  /** Aborted when the connection closes (ends long polls early). */
  readonly closed: AbortSignal;
}

export interface BrokerSettings {
  readonly nodeId: number;
  readonly clusterId: string;
  /** Partitions of an auto-created topic or a CreateTopics with num_partitions -1. */
  readonly defaultPartitions: number;
  readonly autoCreateTopics: boolean;
  /** Address to advertise instead of the connection's local address (when bound to 0.0.0.0 behind NAT, say). */
  readonly advertisedHost: string | undefined;
  readonly advertisedPort: number | undefined;
}

export interface BrokerContext {
  readonly store: BrokerStore;
  readonly groups: GroupCoordinatorApi;
  readonly settings: BrokerSettings;
  /** Every API the broker serves, for ApiVersions. */
  readonly apis: readonly Api[];
  /** A producer id never handed out before (InitProducerId). */
  allocateProducerId(): Promise<number>;
  log(line: string): void;
  /** Called once per answered request (metrics); a plain callback so the broker imports no metrics code. */
  onRequest?: (api: string, seconds: number, failed: boolean) => void;
}

/** Host and port to advertise to a client on `connection`. */
export function advertisedAddress(broker: BrokerContext, connection: ConnectionInfo): { host: string; port: number } {
  let host = broker.settings.advertisedHost ?? connection.localAddress;
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return { host, port: broker.settings.advertisedPort ?? connection.localPort };
}

/** Topic id as the 32 hex digits the codec uses. */
export function topicIdHex(topic: TopicInfo): string {
  return topic.topicId.toString('hex');
}

/**
 * Creates a topic unless it exists; concurrent auto-creations of one name
 * (two clients asking Metadata at once) both end with the same topic.
 */
export async function ensureTopic(broker: BrokerContext, name: string): Promise<{ topic: TopicInfo | undefined; errorCode: number }> {
  const existing = broker.store.topic(name);
  if (existing) return { topic: existing, errorCode: 0 };
  const created = await broker.store.createTopic(name, broker.settings.defaultPartitions);
  if (created.topic) return { topic: created.topic, errorCode: 0 };
  const raced = broker.store.topic(name);
  return raced ? { topic: raced, errorCode: 0 } : { topic: undefined, errorCode: created.errorCode };
}
