// Fetch v11 (non-flexible, topics by name; every broker since Kafka 2.3,
// and the highest librdkafka 2.0 speaks), with the record sets left as
// bytes: the consumer decodes them itself (record-decoder.ts).
//
//   Fetch Request v11 => replica_id max_wait_ms min_bytes max_bytes isolation_level session_id session_epoch
//                        [topics => topic [partitions => partition current_leader_epoch fetch_offset log_start_offset partition_max_bytes]]
//                        [forgotten_topics_data] rack_id
//   Fetch Response v11 => throttle_time_ms error_code session_id
//                        [responses => topic [partitions => partition_index error_code high_watermark last_stable_offset
//                          log_start_offset [aborted_transactions => producer_id first_offset] preferred_read_replica records]]
//
// Session 0 with epoch -1 asks for a full fetch and no fetch session.

import { Writer, createAPI, type Reader } from '@platformatic/kafka';
import type { AbortedTransaction } from './record-decoder.ts';

export interface FetchTopic {
  topic: string;
  partitions: Array<{ partition: number; offset: number }>;
}

export interface FetchRequestOptions {
  maxWaitMs: number;
  maxBytes: number;
  partitionMaxBytes: number;
  /** 1: read_committed (skip aborted transactions), 0: read_uncommitted. */
  isolationLevel: 0 | 1;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  aborted: AbortedTransaction[] | null;
  /** The partition's record set (contiguous), or null. */
  records: Buffer | null;
}

export interface FetchResult {
  errorCode: number;
  partitions: FetchedPartition[];
}

function createRequest(options: FetchRequestOptions, topics: FetchTopic[]): Writer {
  return Writer.create()
    .appendInt32(-1)
    .appendInt32(options.maxWaitMs)
    .appendInt32(1)
    .appendInt32(options.maxBytes)
    .appendInt8(options.isolationLevel)
    .appendInt32(0)
    .appendInt32(-1)
    .appendArray(topics, (w, t) => {
      w.appendString(t.topic, false).appendArray(t.partitions, (pw, p) => {
        pw.appendInt32(p.partition).appendInt32(-1).appendInt64(BigInt(p.offset)).appendInt64(-1n).appendInt32(options.partitionMaxBytes);
      }, false, false);
    }, false, false)
    .appendArray([], () => {}, false, false)
    .appendString('', false);
}

function parseResponse(_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader): FetchResult {
  reader.readInt32(); // throttle_time_ms
  const errorCode = reader.readInt16();
  reader.readInt32(); // session_id
  const partitions: FetchedPartition[] = [];
  const topicCount = reader.readInt32();
  for (let t = 0; t < topicCount; t++) {
    const topic = reader.readString(false);
    const partitionCount = reader.readInt32();
    for (let p = 0; p < partitionCount; p++) {
      const partition = reader.readInt32();
      const partitionError = reader.readInt16();
      const highWatermark = Number(reader.readInt64());
      reader.readInt64(); // last_stable_offset
      const logStartOffset = Number(reader.readInt64());
      const abortedCount = reader.readInt32();
      let aborted: AbortedTransaction[] | null = null;
      if (abortedCount > 0) {
        aborted = [];
        for (let a = 0; a < abortedCount; a++) aborted.push({ producerId: reader.readInt64(), firstOffset: Number(reader.readInt64()) });
      }
      reader.readInt32(); // preferred_read_replica
      const records = reader.readNullableBytes(false);
      partitions.push({ topic, partition, errorCode: partitionError, highWatermark, logStartOffset, aborted, records: records !== null && records.length > 0 ? records : null });
    }
  }
  return { errorCode, partitions };
}

export const fetchApi = createAPI<[FetchRequestOptions, FetchTopic[]], FetchResult>(1, 11, createRequest, parseResponse, false, false);
