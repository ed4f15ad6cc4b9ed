/** Parsing and convenience constructors for dataset schemas; the zod schema itself lives in the domain. */
import { DatasetSchemaSchema, type DatasetSchema } from '../domain/dataset-schema';

export {
  ColumnRoleSchema,
  ColumnSchema,
  DatasetSchemaSchema,
  MissingPolicySchema,
  type ColumnRole,
  type ColumnSpec,
  type DatasetSchema,
  type MissingPolicy,
} from '../domain/dataset-schema';

export function parseDatasetSchema(input: unknown): DatasetSchema {
  return DatasetSchemaSchema.parse(input);
}

/** Schema of the evaluation tables Vigil's demo uses: case_id, a site slice, numeric features, a 0/1 label. */
export function labelledSchema(
  features: readonly string[],
  options: { slices?: readonly string[]; patientId?: string; extraColumns?: 'reject' | 'ignore' } = {},
): DatasetSchema {
  return parseDatasetSchema({
    format: 'vigil.dataset-schema/v1',
    extraColumns: options.extraColumns ?? 'reject',
    columns: [
      { name: 'case_id', role: 'case_id', type: 'string' },
      ...(options.patientId ? [{ name: options.patientId, role: 'patient_id', type: 'string' }] : []),
      ...(options.slices ?? ['site']).map((name) => ({ name, role: 'slice', type: 'string' })),
      ...features.map((name) => ({ name, role: 'feature', type: 'number' })),
      { name: 'label', role: 'label', type: 'label' },
    ],
  });
}
