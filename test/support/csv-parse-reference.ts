import crypto from 'node:crypto';
import fs from 'node:fs';
import { parse } from 'csv-parse';
import type { Cell } from '../../src/provenance/row-digest';
import { checkHeader, describe, TableReadError, type TableStream } from '../../src/provenance/table-stream';

/** The reference the manifest's reader is tested against: csv-parse's streaming parser, as the manifest reads CSV. */
export async function openCsvWithCsvParse(file: string): Promise<TableStream> {
  const parser = parse({ bom: true, relax_column_count: false, skip_empty_lines: false });
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  // Hash the very bytes that are parsed, so the digest and the rows cannot come from different versions.
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let complete = false;
  input.on('data', (chunk) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  input.on('end', () => (complete = true));
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  // Drain everything csv-parse has buffered per wake-up instead of awaiting once per record:
  // a promise per row is a measurable share of the time at a million rows.
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on('readable', notify);
  parser.on('end', () => {
    ended = true;
    notify();
  });
  parser.on('error', (err) => {
    failure = err;
    notify();
  });
  async function nextBatch(): Promise<string[][] | undefined> {
    for (;;) {
      const batch: string[][] = [];
      let rec: string[] | null;
      while (batch.length < 4096 && (rec = parser.read() as string[] | null) !== null) batch.push(rec);
      if (batch.length > 0) return batch;
      if (failure !== undefined) throw new TableReadError(`${file}: ${describe(failure)}`);
      if (ended) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  const firstBatch = await nextBatch();
  const headerRow = firstBatch?.shift();
  if (!headerRow) throw new TableReadError(`${file}: empty file, expected a header row`);
  const columns = checkHeader(headerRow, file);
  async function* rows(): AsyncGenerator<Cell[][]> {
    try {
      if (firstBatch && firstBatch.length > 0) yield firstBatch;
      for (let batch = await nextBatch(); batch; batch = await nextBatch()) yield batch;
    } finally {
      input.destroy();
    }
  }
  const fileDigest = async (): Promise<{ sha256: string; bytes: number }> => {
    if (!complete) throw new TableReadError(`${file}: digest requested before the whole file was read`);
    return { sha256: hash.digest('hex'), bytes };
  };
  return { columns, batches: rows(), fileDigest };
}
