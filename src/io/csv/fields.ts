// Splitting a CSV record into fields (RFC 4180) and writing fields back.

/** Fields of one record. Quoted fields may hold commas, doubled quotes and line breaks. */
export function splitCsv(line: string): string[] {
  if (line.indexOf('"') < 0) return line.split(',');
  const fields: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) {
          value += line.slice(j);
          j = n;
          break;
        }
        value += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      // Anything between the closing quote and the next comma is kept as is.
      const comma = line.indexOf(',', j);
      value += line.slice(j, comma < 0 ? n : comma);
      fields.push(value);
      if (comma < 0) return fields;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      fields.push(line.slice(i, comma < 0 ? n : comma));
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One field for a CSV line: quoted only when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvLine(values: readonly string[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : ',') + csvField(values[i]!);
  return line;
}
