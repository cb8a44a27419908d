// Idempotent-producer bookkeeping for one partition: per producerId the
// current epoch, the last sequence written and the last few batches, so a
// retried batch is answered with its original offset instead of being
// written twice. Rules follow Kafka's ProducerStateManager:
// - a lower epoch than the one seen is fenced (INVALID_PRODUCER_EPOCH);
// - a new, higher epoch must start at sequence 0;
// - the same epoch must continue at lastSequence + 1 (wrapping at 2^31-1);
// - a producer with no state yet (new, or its batches aged out) may start
//   anywhere, since its history is gone;
// - a batch equal to one of the last five is a duplicate: success with
//   the original base offset.
// The state is rebuilt from batch headers when a partition is recovered.

import type { BatchInfo } from './record-batch.ts';
import { StorageErrorCode } from './types.ts';

/** Kafka keeps metadata of the last 5 batches per producer (max.in.flight = 5). */
const RETAINED_BATCHES = 5;
const MAX_SEQUENCE = 0x7fffffff;

interface BatchRecord {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  lastSequence: number;
  recent: BatchRecord[];
}

export type SequenceCheck =
  | { kind: 'ok' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'error'; errorCode: number; errorMessage: string };

function lastSequenceOf(batch: BatchInfo): number {
  return (batch.baseSequence + batch.lastOffsetDelta) % (MAX_SEQUENCE + 1);
}

function follows(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === (lastSequence === MAX_SEQUENCE ? 0 : lastSequence + 1);
}

export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  /**
   * Checks the idempotent batches of one append against the state, without
   * changing it. Several batches of the same producer in one append must
   * follow each other.
   */
  check(batches: readonly BatchInfo[]): SequenceCheck {
    let pending: Map<number, { epoch: number; lastSequence: number }> | null = null;
    for (const batch of batches) {
      if (batch.producerId < 0) continue;
      const entry = this.producers.get(batch.producerId);
      const inRequest = pending?.get(batch.producerId);
      if (!inRequest && entry && batch.producerEpoch === entry.epoch) {
        const firstSequence = batch.baseSequence;
        const lastSequence = lastSequenceOf(batch);
        const duplicate = entry.recent.find((r) => r.firstSequence === firstSequence && r.lastSequence === lastSequence);
        if (duplicate) return { kind: 'duplicate', baseOffset: duplicate.baseOffset };
      }
      const current = inRequest ?? (entry ? { epoch: entry.epoch, lastSequence: entry.lastSequence } : null);
      if (current) {
        if (batch.producerEpoch < current.epoch) {
          return { kind: 'error', errorCode: StorageErrorCode.INVALID_PRODUCER_EPOCH, errorMessage: `producer ${batch.producerId} epoch ${batch.producerEpoch} is older than ${current.epoch}` };
        }
        if (batch.producerEpoch > current.epoch) {
          if (batch.baseSequence !== 0) {
            return { kind: 'error', errorCode: StorageErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, errorMessage: `producer ${batch.producerId} new epoch ${batch.producerEpoch} must start at sequence 0, got ${batch.baseSequence}` };
          }
        } else if (!follows(current.lastSequence, batch.baseSequence)) {
          return { kind: 'error', errorCode: StorageErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, errorMessage: `producer ${batch.producerId} sequence ${batch.baseSequence} where ${(current.lastSequence + 1) % (MAX_SEQUENCE + 1)} was expected` };
        }
      }
      pending ??= new Map();
      pending.set(batch.producerId, { epoch: batch.producerEpoch, lastSequence: lastSequenceOf(batch) });
    }
    return { kind: 'ok' };
  }

  /** Records a batch once its offsets are assigned (also used during recovery). */
  record(batch: BatchInfo, baseOffset: number): void {
    if (batch.producerId < 0) return;
    let entry = this.producers.get(batch.producerId);
    if (!entry || batch.producerEpoch !== entry.epoch) {
      entry = { epoch: batch.producerEpoch, lastSequence: -1, recent: [] };
      this.producers.set(batch.producerId, entry);
    }
    const lastSequence = lastSequenceOf(batch);
    entry.lastSequence = lastSequence;
    entry.recent.push({ firstSequence: batch.baseSequence, lastSequence, baseOffset });
    if (entry.recent.length > RETAINED_BATCHES) entry.recent.shift();
  }
}
