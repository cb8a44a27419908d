// The project's Kafka client adapter over @platformatic/kafka: the only
// module that imports the client library, so the rest of the code sees plain
// types, numbers for offsets and StreamwatchErrors.
export { KafkaAdmin } from './admin.ts';
export { KafkaProducer, type ProducerConfig } from './producer.ts';
export { GroupConsumer, type GroupConsumerConfig } from './consumer.ts';
export { kafkaError, type ClientConfig } from './connection.ts';
export { COMPRESSIONS, partitionKey } from './types.ts';
export type { Acks, Compression, ConsumedRecord, GroupDescription, PartitionOffset, TopicDescription, TopicPartition } from './types.ts';
