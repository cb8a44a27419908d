// Field tables: each API describes its request and response the way Kafka's
// message JSON specs do (name, type, versions, nullable versions, tag), and
// this module turns one table into a decoder and an encoder per version. The
// flexible versions (KIP-482) differ only in how lengths are written and in
// the tagged-field block after every struct, so one table serves both kinds.
import { ProtocolError } from './errors.ts';
import type { Reader } from './reader.ts';
import { Writer } from './writer.ts';

export type FieldType =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'float64' | 'bool' | 'uuid'
  | 'string' | 'bytes' | 'records'
  | '[]int32' | '[]int64' | '[]string'
  | '[]' // array of structs (sub-fields)
  | '{}'; // a single struct (only used for tagged fields)

export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly min: number;
  readonly max: number;
  readonly nullableMin: number;
  readonly nullableMax: number;
  /** Tag number of a tagged field (written only in flexible versions, and only when set). */
  readonly tag: number | undefined;
  readonly default: unknown;
  readonly fields: readonly Field[];
}

/** A record decoded from the wire: field name to value. */
export type Struct = Record<string, unknown>;

function range(spec: string): [number, number] {
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return [Number(plus[1]), Number.POSITIVE_INFINITY];
  const span = /^(\d+)-(\d+)$/.exec(spec);
  if (span) return [Number(span[1]), Number(span[2])];
  if (/^\d+$/.test(spec)) return [Number(spec), Number(spec)];
  if (spec === 'none') return [1, 0];
  throw new Error(`bad version range '${spec}'`);
}

export interface FieldOptions {
  /** Versions in which null is allowed, e.g. '1+'. */
  nullable?: string;
  /** Tag number: the field is a tagged field. */
  tag?: number;
  default?: unknown;
}

/**
 * One row of a field table. `versions` is a Kafka-style range: '0+', '3-7', '5'.
 * Sub-fields describe the elements of '[]' and the body of '{}'.
 */
export function f(name: string, type: FieldType, versions: string, options: FieldOptions | readonly Field[] = {}, fields: readonly Field[] = []): Field {
  const opts: FieldOptions = Array.isArray(options) ? {} : (options as FieldOptions);
  const subFields: readonly Field[] = Array.isArray(options) ? (options as readonly Field[]) : fields;
  const [min, max] = range(versions);
  const [nullableMin, nullableMax] = opts.nullable === undefined ? [1, 0] : range(opts.nullable);
  return { name, type, min, max, nullableMin, nullableMax, tag: opts.tag, default: opts.default, fields: subFields };
}

function inVersion(field: Field, version: number): boolean {
  return version >= field.min && version <= field.max;
}

function nullableIn(field: Field, version: number): boolean {
  return version >= field.nullableMin && version <= field.nullableMax;
}

/** The value a field takes when its version does not carry it. */
export function defaultOf(field: Field): unknown {
  if (field.default !== undefined) return field.default;
  switch (field.type) {
    case 'int8': case 'int16': case 'int32': case 'int64': case 'float64': return 0;
    case 'bool': return false;
    case 'uuid': return ZERO_UUID;
    case 'string': return '';
    case 'bytes': return Buffer.alloc(0);
    case 'records': return null;
    case '{}': return undefined;
    default: return [];
  }
}

export const ZERO_UUID = '00000000000000000000000000000000';

function decodeValue(field: Field, reader: Reader, version: number, flexible: boolean): unknown {
  switch (field.type) {
    case 'int8': return reader.int8();
    case 'int16': return reader.int16();
    case 'int32': return reader.int32();
    case 'int64': return reader.int64();
    case 'float64': return reader.float64();
    case 'bool': return reader.bool();
    case 'uuid': return reader.uuid();
    case 'string': {
      const value = flexible ? reader.compactNullableString() : reader.nullableString();
      if (value === null && !nullableIn(field, version)) throw new ProtocolError(`${field.name} is null`);
      return value;
    }
    case 'bytes': case 'records': {
      const value = flexible ? reader.compactNullableBytes() : reader.nullableBytes();
      if (value === null && !nullableIn(field, version) && field.type === 'bytes') throw new ProtocolError(`${field.name} is null`);
      return value;
    }
    case '{}': return decodeStruct(field.fields, reader, version, flexible);
    default: {
      const length = reader.arrayLength(flexible);
      if (length < 0) {
        if (!nullableIn(field, version)) throw new ProtocolError(`${field.name} is null`);
        return null;
      }
      const items: unknown[] = new Array(length);
      for (let i = 0; i < length; i++) {
        switch (field.type) {
          case '[]int32': items[i] = reader.int32(); break;
          case '[]int64': items[i] = reader.int64(); break;
          case '[]string': items[i] = flexible ? reader.compactNullableString() : reader.nullableString(); break;
          default: items[i] = decodeStruct(field.fields, reader, version, flexible);
        }
      }
      return items;
    }
  }
}

/** Decodes one struct of `fields` at `version`; fields absent in that version get their defaults. */
export function decodeStruct(fields: readonly Field[], reader: Reader, version: number, flexible: boolean): Struct {
  const out: Struct = {};
  for (const field of fields) {
    if (field.tag !== undefined) {
      if (field.type !== '{}' && field.type !== '[]') out[field.name] = defaultOf(field);
      continue;
    }
    out[field.name] = inVersion(field, version) ? decodeValue(field, reader, version, flexible) : defaultOf(field);
  }
  if (flexible) {
    reader.taggedFields((tag, _size, sub) => {
      const field = fields.find((candidate) => candidate.tag === tag && inVersion(candidate, version));
      if (field) out[field.name] = decodeValue(field, sub, version, true);
      return true;
    });
  }
  return out;
}

function encodeValue(field: Field, value: unknown, writer: Writer, version: number, flexible: boolean): void {
  switch (field.type) {
    case 'int8': writer.int8(Number(value ?? 0)); return;
    case 'int16': writer.int16(Number(value ?? 0)); return;
    case 'int32': writer.int32(Number(value ?? 0)); return;
    case 'int64': writer.int64(Number(value ?? 0)); return;
    case 'float64': writer.float64(Number(value ?? 0)); return;
    case 'bool': writer.bool(Boolean(value)); return;
    case 'uuid': writer.uuid(typeof value === 'string' ? value : ZERO_UUID); return;
    case 'string': {
      let text = value === undefined ? null : (value as string | null);
      if (text === null && !nullableIn(field, version)) text = '';
      if (flexible) writer.compactNullableString(text);
      else writer.nullableString(text);
      return;
    }
    case 'bytes': case 'records': {
      let bytes = value === undefined ? null : (value as Uint8Array | Uint8Array[] | null);
      // Records are never written as null: librdkafka rejects a -1 MessageSet size.
      if (bytes === null && (field.type === 'records' || !nullableIn(field, version))) bytes = Buffer.alloc(0);
      writer.nullableBytes(bytes, flexible);
      return;
    }
    case '{}': encodeStruct(field.fields, (value ?? {}) as Struct, writer, version, flexible); return;
    default: {
      let items = value === undefined ? null : (value as unknown[] | null);
      if (items === null && !nullableIn(field, version)) items = [];
      if (items === null) {
        writer.arrayLength(-1, flexible);
        return;
      }
      writer.arrayLength(items.length, flexible);
      for (const item of items) {
        switch (field.type) {
          case '[]int32': writer.int32(Number(item)); break;
          case '[]int64': writer.int64(Number(item)); break;
          case '[]string':
            if (flexible) writer.compactNullableString((item ?? null) as string | null);
            else writer.nullableString((item ?? null) as string | null);
            break;
          default: encodeStruct(field.fields, item as Struct, writer, version, flexible);
        }
      }
    }
  }
}

/** A tagged field is written only when it carries something other than its default. */
function isDefault(field: Field, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (Buffer.isBuffer(value)) return value.length === 0 && field.default === undefined;
  return typeof value !== 'object' && value === defaultOf(field);
}

/** Encodes one struct at `version`; missing values are written as the field's default. */
export function encodeStruct(fields: readonly Field[], value: Struct, writer: Writer, version: number, flexible: boolean): void {
  let tagged: Field[] | undefined;
  for (const field of fields) {
    if (!inVersion(field, version)) continue;
    if (field.tag !== undefined) {
      if (flexible && !isDefault(field, value[field.name])) (tagged ??= []).push(field);
      continue;
    }
    const given = value[field.name];
    encodeValue(field, given === undefined ? defaultOf(field) : given, writer, version, flexible);
  }
  if (!flexible) return;
  if (!tagged) {
    writer.uvarint(0);
    return;
  }
  tagged.sort((a, b) => (a.tag as number) - (b.tag as number));
  writer.uvarint(tagged.length);
  for (const field of tagged) {
    // The size prefix needs the encoded length, so encode into a side writer first.
    const side = new Writer(64);
    encodeValue(field, value[field.name], side, version, true);
    const body = side.finish();
    let size = 0;
    for (const chunk of body) size += chunk.length;
    writer.uvarint(field.tag as number).uvarint(size);
    for (const chunk of body) writer.raw(chunk);
  }
}
