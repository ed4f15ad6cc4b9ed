/** Locked evaluation data: schema-checked CSV and Parquet readers, missing-value policies, prediction files. */
import { readCsvTable } from './csv';
import { DatasetError } from './errors';
import { readParquetTable } from './parquet';
import type { DatasetSchema } from './schema';
import type { LockedTable } from './table';

export { readCsvHeader, readCsvTable } from './csv';
export { DatasetError, type DatasetErrorCode } from './errors';
export { readParquetTable } from './parquet';
export { joinPredictions, parsePredictionFile, PREDICTIONS_HEADER, type PredictionFile } from './predictions';
export {
  DatasetSchemaSchema,
  labelledSchema,
  parseDatasetSchema,
  type ColumnSpec,
  type DatasetSchema,
  type MissingPolicy,
} from './schema';
export type { LockedTable, MissingReport } from './table';

export type TableFormat = 'csv' | 'parquet';

/** Format from a media type or a file name; an unknown one is an error rather than a guess. */
export function tableFormatOf(mediaTypeOrFilename: string): TableFormat {
  const s = mediaTypeOrFilename.toLowerCase();
  if (s === 'text/csv' || s.endsWith('.csv')) return 'csv';
  if (s === 'application/vnd.apache.parquet' || s === 'application/x-parquet' || s.endsWith('.parquet'))
    return 'parquet';
  throw new DatasetError(
    'unreadable',
    `cannot tell the table format of "${mediaTypeOrFilename}" (expected .csv or .parquet)`,
  );
}

export async function readTable(
  bytes: Uint8Array,
  mediaTypeOrFilename: string,
  schema: DatasetSchema,
  name: string,
): Promise<LockedTable> {
  return tableFormatOf(mediaTypeOrFilename) === 'csv'
    ? readCsvTable(bytes, schema, name)
    : readParquetTable(bytes, schema, name);
}
