// Entry point of the broker's storage layer (see ./types.ts for the contract).
import type { BrokerStore, BrokerStoreOptions } from './types.ts';

export type * from './types.ts';
export { StorageErrorCode, LATEST_TIMESTAMP, EARLIEST_TIMESTAMP, MAX_TIMESTAMP } from './types.ts';

/** Opens (creating if needed) the data directory, recovering every partition and the committed offsets. */
export async function openBrokerStore(dataDir: string, options: BrokerStoreOptions = {}): Promise<BrokerStore> {
  void dataDir;
  void options;
  throw new Error('storage not implemented yet');
}
