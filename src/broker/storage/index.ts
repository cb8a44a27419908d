// Entry point of the broker's storage layer (see ./types.ts for the contract).
import { openStore } from './store.ts';
import type { BrokerStore, BrokerStoreOptions } from './types.ts';

export type * from './types.ts';
export { StorageErrorCode, LATEST_TIMESTAMP, EARLIEST_TIMESTAMP, MAX_TIMESTAMP } from './types.ts';
export { crc32c } from './crc32c.ts';

/** Opens (creating if needed) the data directory, recovering every partition and the committed offsets. */
export function openBrokerStore(dataDir: string, options: BrokerStoreOptions = {}): Promise<BrokerStore> {
  return openStore(dataDir, options);
}
