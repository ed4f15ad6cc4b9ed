import {
  DatasetError,
  parseDatasetSchema,
  readCsvHeader,
  readTable,
  type DatasetSchema,
  type LockedTable,
} from '../data';
import type { DatasetRef } from '../domain';
import { asArtifactFailure } from './artifacts';
import type { EvidencePort } from '../contracts/ports';

/** Media types readTable understands, per declared dataset format. */
export const TABLE_TYPE: Record<DatasetRef['format'], string> = {
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
};

/** Column names of a CSV or Parquet table, read from its header or footer only. */
export async function tableHeader(bytes: Uint8Array, format: DatasetRef['format'], name: string): Promise<string[]> {
  if (format === 'csv') return readCsvHeader(bytes, name);
  const hp = await import('hyparquet');
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return hp
      .parquetMetadata(file)
      .schema.slice(1)
      .map((el) => el.name);
  } catch (e) {
    throw new DatasetError('unreadable', `dataset ${name}: not a readable Parquet file: ${(e as Error).message}`);
  }
}

export interface TableNeeds {
  /** Slice attribute columns (the policy's offline.attributes); required on the evaluation split. */
  slices: readonly string[];
  /** Feature columns the models read. */
  features: readonly string[];
}

/**
 * The schema of a dataset that declares none: the demo layout. `case_id` and `label` (0/1) are required,
 * `patient_id` is used when present (for the patient-overlap check), the slices and features asked for are
 * required, and other columns are ignored. Every named column rejects missing cells.
 */
export function defaultSchema(header: readonly string[], needs: TableNeeds, name: string): DatasetSchema {
  if (needs.features.length === 0) {
    throw new DatasetError(
      'missing-column',
      `dataset ${name}: no model declares its features (prediction files), so the dataset must carry a schema naming its feature columns`,
    );
  }
  return parseDatasetSchema({
    format: 'vigil.dataset-schema/v1',
    extraColumns: 'ignore',
    columns: [
      { name: 'case_id', role: 'case_id', type: 'string' },
      ...(header.includes('patient_id') ? [{ name: 'patient_id', role: 'patient_id', type: 'string' }] : []),
      ...needs.slices.map((c) => ({ name: c, role: 'slice', type: 'string' })),
      ...needs.features.map((c) => ({ name: c, role: 'feature', type: 'number' })),
      { name: 'label', role: 'label', type: 'label' },
    ],
  });
}

/**
 * Read one pinned dataset (CSV or Parquet) through the schema-checked readers: its own schema if it
 * declares one, else the default layout. Any bad cell, missing column or digest problem is a
 * non-retryable InvalidArtifact failure naming dataset, row and column.
 */
export async function readDataset(
  evidence: EvidencePort,
  ref: DatasetRef,
  needs: TableNeeds,
): Promise<{ table: LockedTable; schema: DatasetSchema }> {
  const bytes = await evidence.getBytes(ref.artifact.key, ref.artifact.sha256);
  try {
    const schema = ref.schema ?? defaultSchema(await tableHeader(bytes, ref.format, ref.name), needs, ref.name);
    const table = await readTable(bytes, TABLE_TYPE[ref.format], schema, ref.name);
    return { table, schema };
  } catch (e) {
    throw asArtifactFailure(`${ref.role} split (${ref.format})`, e);
  }
}
