// Entry point of the consumer group coordinator (see ./types.ts for the contract).
export type * from './types.ts';
export { GroupErrorCode } from './types.ts';
export { GroupCoordinator } from './coordinator.ts';
export { ManualScheduler, systemScheduler } from './clock.ts';
