/**
 * Turning a parsed source (CSV text cells or Parquet values) into a locked, columnar table, applying the
 * schema's type checks and missing-value policies in one place so CSV and Parquet behave identically.
 */
import { DatasetError } from './errors';
import type { ColumnSpec, DatasetSchema, MissingPolicy } from './schema';

/** A locked evaluation table in columnar form, ready for scoring and statistics. */
export interface LockedTable {
  name: string;
  /** Data rows in the file; `rows` is what is left after drop-row policies. */
  sourceRows: number;
  rows: number;
  caseIds: string[];
  /** Present when the schema names a patient_id column. */
  patientIds: string[] | null;
  labels: Uint8Array;
  featureNames: string[];
  /** Row-major [rows, featureNames.length] float32, the layout ONNX models take. */
  features: Float32Array;
  /** Slice attribute columns by name, one string per row. */
  slices: Record<string, string[]>;
  /** One entry per column that had missing cells: what the policy did, with counts. */
  missing: MissingReport[];
  /** Case ids of rows left out by drop-row policies (in file order). */
  droppedCaseIds: string[];
}

export interface MissingReport {
  column: string;
  policy: MissingPolicy['policy'];
  /** Missing cells in this column. */
  cells: number;
  /** Rows this column caused to be dropped (a row counts once, under its first missing drop-row column). */
  rowsDropped: number;
  /** Cells filled with the constant. */
  imputed: number;
}

/** Sentinel for an absent cell, kept distinct from every real value. */
export const MISSING = Symbol('missing');
export type Converted = number | string | typeof MISSING;

/** Converts one raw cell of a column; throws DatasetError for invalid (not missing) values. */
export type CellConverter = (raw: unknown, row: number) => Converted;

export interface TableSource {
  kind: 'csv' | 'parquet';
  header: string[];
  rowCount: number;
  /** The raw value at (0-based row, 0-based file column). */
  cell(row: number, fileColumn: number): unknown;
}

export type ColumnSpecLike = Pick<ColumnSpec, 'name' | 'type'>;
export type ConverterFactory = (spec: ColumnSpecLike) => CellConverter;

export function buildLockedTable(
  name: string,
  schema: DatasetSchema,
  source: TableSource,
  converterFor: ConverterFactory,
): LockedTable {
  const fail = (code: ConstructorParameters<typeof DatasetError>[0], msg: string, row?: number, column?: string) =>
    new DatasetError(code, `dataset ${name}: ${msg}`, row, column);

  const position = new Map<string, number>();
  source.header.forEach((h, i) => {
    if (position.has(h)) throw fail('duplicate-column', `column "${h}" appears twice in the header`, undefined, h);
    position.set(h, i);
  });
  const absent = schema.columns.filter((c) => !position.has(c.name)).map((c) => c.name);
  if (absent.length > 0)
    throw fail(
      'missing-column',
      `missing required column${absent.length > 1 ? 's' : ''} ${absent.map((c) => `"${c}"`).join(', ')}`,
      undefined,
      absent[0],
    );
  if (schema.extraColumns === 'reject') {
    const named = new Set(schema.columns.map((c) => c.name));
    const extra = source.header.filter((h) => !named.has(h));
    if (extra.length > 0)
      throw fail(
        'unexpected-column',
        `column${extra.length > 1 ? 's' : ''} ${extra.map((c) => `"${c}"`).join(', ')} not in the schema (set extraColumns: ignore to allow)`,
        undefined,
        extra[0],
      );
  }
  const n = source.rowCount;
  if (n === 0) throw fail('empty', 'no data rows');

  const specs = schema.columns;
  const fileCol = specs.map((c) => position.get(c.name)!);
  const convert = specs.map((c) => {
    const f = converterFor(c);
    return (raw: unknown, row: number): Converted => {
      try {
        return f(raw, row);
      } catch (e) {
        if (e instanceof DatasetError) throw fail(e.code, `row ${row}, column "${c.name}": ${e.message}`, row, c.name);
        throw e;
      }
    };
  });
  const featureSpecs = specs.map((c, i) => ({ c, i })).filter(({ c }) => c.role === 'feature');
  const sliceSpecs = specs.map((c, i) => ({ c, i })).filter(({ c }) => c.role === 'slice');
  const caseIdx = specs.findIndex((c) => c.role === 'case_id');
  const patientIdx = specs.findIndex((c) => c.role === 'patient_id');
  const labelIdx = specs.findIndex((c) => c.role === 'label');
  const F = featureSpecs.length;

  const report = specs.map((c) => ({ column: c.name, policy: c.missing.policy, cells: 0, rowsDropped: 0, imputed: 0 }));
  const features = new Float32Array(n * F);
  const labels = new Uint8Array(n);
  const caseIds: string[] = [];
  const patientIds: string[] = [];
  const slices: Record<string, string[]> = Object.fromEntries(sliceSpecs.map(({ c }) => [c.name, [] as string[]]));
  const droppedCaseIds: string[] = [];
  const firstRowOfCase = new Map<string, number>();
  const values: Converted[] = new Array<Converted>(specs.length);
  let kept = 0;

  for (let r = 0; r < n; r++) {
    const rowNo = r + 1;
    let dropBy = -1;
    for (let k = 0; k < specs.length; k++) {
      let v = convert[k]!(source.cell(r, fileCol[k]!), rowNo);
      if (v === MISSING) {
        const spec = specs[k]!;
        const rep = report[k]!;
        rep.cells++;
        if (spec.missing.policy === 'reject')
          throw fail(
            'missing-value',
            `row ${rowNo}, column "${spec.name}": missing value (policy: reject)`,
            rowNo,
            spec.name,
          );
        if (spec.missing.policy === 'impute') {
          v = spec.missing.value;
          rep.imputed++;
        } else if (dropBy < 0) {
          dropBy = k;
          rep.rowsDropped++;
        }
      }
      values[k] = v;
    }
    if (dropBy >= 0) {
      const id = values[caseIdx];
      if (typeof id === 'string') droppedCaseIds.push(id);
      continue;
    }
    const id = values[caseIdx] as string;
    const earlier = firstRowOfCase.get(id);
    if (earlier !== undefined)
      throw fail(
        'duplicate-id',
        `row ${rowNo}, column "${specs[caseIdx]!.name}": case id "${id}" already used by row ${earlier}`,
        rowNo,
        specs[caseIdx]!.name,
      );
    firstRowOfCase.set(id, rowNo);
    caseIds.push(id);
    if (patientIdx >= 0) patientIds.push(values[patientIdx] as string);
    labels[kept] = values[labelIdx] as number;
    const base = kept * F;
    for (let j = 0; j < F; j++) features[base + j] = values[featureSpecs[j]!.i] as number;
    for (const { c, i } of sliceSpecs) slices[c.name]!.push(values[i] as string);
    kept++;
  }
  if (kept === 0) throw fail('empty', `all ${n} rows were dropped by missing-value policies`);

  return {
    name,
    sourceRows: n,
    rows: kept,
    caseIds,
    patientIds: patientIdx >= 0 ? patientIds : null,
    labels: kept === n ? labels : labels.slice(0, kept),
    featureNames: featureSpecs.map(({ c }) => c.name),
    features: kept === n ? features : features.slice(0, kept * F),
    slices,
    missing: report.filter((m) => m.cells > 0),
    droppedCaseIds,
  };
}

/** A finite double as float32, refusing values float32 cannot hold (they would become infinite). */
export function toFloat32(v: number): number {
  if (!Number.isFinite(v)) throw new DatasetError('non-finite', `value is not finite (${v})`);
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new DatasetError('non-finite', `value ${v} is outside the float32 range`);
  return f;
}
