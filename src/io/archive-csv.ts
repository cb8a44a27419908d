// CSV for the archive: whole files parsed back into records (RFC 4180,
// quoted fields may hold line breaks) and records written as lines.
import { csvLine } from './csv/fields.ts';

/** Every record of a CSV text; a final line break is optional. */
export function parseCsvText(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      records.push(fields);
      fields = [];
      field = '';
    } else field += c;
    i++;
  }
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    records.push(fields);
  }
  // Blank lines hold no record.
  return records.filter((r) => r.length > 1 || r[0] !== '');
}

export function formatCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  let out = `${csvLine(header)}\n`;
  for (const row of rows) out += `${csvLine(row)}\n`;
  return out;
}
