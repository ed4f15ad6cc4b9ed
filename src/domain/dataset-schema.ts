/**
 * A locked dataset's schema: which columns exist, what each holds, and what to do when a cell is missing.
 * "Missing" means absent (an empty CSV cell, a listed missing token, a Parquet null). NaN and infinities are
 * never missing: they are invalid values and always an error, whatever the policy.
 */
import { z } from 'zod';

export const MissingPolicySchema = z.discriminatedUnion('policy', [
  /** A missing cell is an error naming row and column. */
  z.object({ policy: z.literal('reject') }),
  /** The row is left out of the evaluation; counts are reported per column. */
  z.object({ policy: z.literal('drop-row') }),
  /** The cell takes a constant; counts are reported per column. */
  z.object({ policy: z.literal('impute'), value: z.union([z.number().finite(), z.string()]) }),
]);
export type MissingPolicy = z.infer<typeof MissingPolicySchema>;

export const ColumnRoleSchema = z.enum(['case_id', 'patient_id', 'label', 'feature', 'slice']);
export type ColumnRole = z.infer<typeof ColumnRoleSchema>;

export const ColumnSchema = z.object({
  name: z.string().min(1).max(256),
  role: ColumnRoleSchema,
  type: z.enum(['number', 'string', 'label']),
  missing: MissingPolicySchema.default({ policy: 'reject' }),
});
export type ColumnSpec = z.infer<typeof ColumnSchema>;

/** The type each role must have; `label` is a 0/1 column. */
const ROLE_TYPE: Record<ColumnRole, ColumnSpec['type']> = {
  case_id: 'string',
  patient_id: 'string',
  label: 'label',
  feature: 'number',
  slice: 'string',
};

const NUMERIC_LOOKING = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$/i;

export const DatasetSchemaSchema = z
  .object({
    format: z.literal('vigil.dataset-schema/v1'),
    columns: z.array(ColumnSchema).min(3).max(4096),
    /** Columns in the file that the schema does not name. */
    extraColumns: z.enum(['reject', 'ignore']).default('reject'),
    /** CSV cell texts (after trimming) that mean "missing"; Parquet uses nulls. */
    missingTokens: z.array(z.string().max(32)).max(16).default(['']),
  })
  .superRefine((s, ctx) => {
    const issue = (message: string, path: (string | number)[] = ['columns']) =>
      ctx.addIssue({ code: 'custom', path, message });
    const seen = new Set<string>();
    s.columns.forEach((c, i) => {
      if (seen.has(c.name)) issue(`column "${c.name}" is listed twice`, ['columns', i, 'name']);
      seen.add(c.name);
      if (c.type !== ROLE_TYPE[c.role])
        issue(`a ${c.role} column must have type ${ROLE_TYPE[c.role]}`, ['columns', i, 'type']);
      if (c.missing.policy === 'impute') {
        if (c.role !== 'feature' && c.role !== 'slice')
          issue(`a ${c.role} column cannot be imputed`, ['columns', i, 'missing']);
        else if (typeof c.missing.value !== (c.type === 'number' ? 'number' : 'string')) {
          issue(`the imputed value must be a ${c.type}`, ['columns', i, 'missing', 'value']);
        }
      }
    });
    const count = (role: ColumnRole) => s.columns.filter((c) => c.role === role).length;
    if (count('case_id') !== 1) issue('exactly one case_id column is required');
    if (count('label') !== 1) issue('exactly one label column is required');
    if (count('patient_id') > 1) issue('at most one patient_id column is allowed');
    if (count('feature') < 1) issue('at least one feature column is required');
    s.missingTokens.forEach((t, i) => {
      if (NUMERIC_LOOKING.test(t.trim()))
        issue(`"${t}" reads as a number or NaN/infinity and cannot mean missing`, ['missingTokens', i]);
    });
  });
export type DatasetSchema = z.infer<typeof DatasetSchemaSchema>;
