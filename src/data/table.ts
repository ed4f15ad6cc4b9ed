/**
 * The one column interface of the data readers: CSV byte ranges and Parquet values go through the same
 * schema checks and missing-value policies, straight into typed columns (float32 features, 0/1 labels,
 * interned strings as codes), so CSV and Parquet behave identically and no row object is ever built.
 */
import { ByteStrings } from './byte-strings';
import { DatasetError, type DatasetErrorCode } from './errors';
import type { ColumnSpec, DatasetSchema, MissingPolicy } from './schema';

/** A string column as codes into its distinct values (in order of first sight). */
export interface CodedColumn {
  codes: Uint8Array | Uint16Array | Uint32Array;
  levels: string[];
}

/** A locked evaluation table in columnar form, ready for scoring and statistics. */
export interface LockedTable {
  name: string;
  /** Data rows in the file; `rows` is what is left after drop-row policies. */
  sourceRows: number;
  rows: number;
  /** Case ids as strings, made on first use (`caseIdColumn` holds them without a string per row). */
  readonly caseIds: string[];
  /** Case id of row i is value i: the ids are unique, interned in row order. */
  caseIdColumn: ByteStrings;
  /** Present when the schema names a patient_id column. */
  patientIds: string[] | null;
  labels: Uint8Array;
  featureNames: string[];
  /** Row-major [rows, featureNames.length] float32, the layout ONNX models take. */
  features: Float32Array;
  /** Slice attribute columns by name, one string per row, made on first use from `sliceColumns`. */
  readonly slices: Record<string, string[]>;
  /** Slice attribute columns by name as codes and levels. */
  sliceColumns: Record<string, CodedColumn>;
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

/** A finite double as float32, refusing values float32 cannot hold (they would become infinite). */
export function toFloat32(v: number): number {
  if (!Number.isFinite(v)) throw new DatasetError('non-finite', `value is not finite (${v})`);
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new DatasetError('non-finite', `value ${v} is outside the float32 range`);
  return f;
}

/** The pending value of one column in the current row (`s` = -1: missing). */
type Slot = { num: number; buf: Uint8Array; s: number; e: number };

const enc = new TextEncoder();

/** The first `n` values: a view when the column was sized about right, else a copy (not to pin the spare). */
function fit<T extends Uint8Array | Float32Array>(a: T, n: number): T {
  return (n >= a.length * 0.9 ? a.subarray(0, n) : a.slice(0, n)) as T;
}

/** Level codes, one per kept row: one byte each until a column has more than 256 levels. */
class GrowCodes {
  data: Uint8Array | Uint16Array | Uint32Array;
  constructor(capacity: number) {
    this.data = new Uint8Array(Math.max(16, capacity));
  }
  push(at: number, v: number): void {
    let d = this.data;
    if (at >= d.length || v > (d instanceof Uint8Array ? 0xff : d instanceof Uint16Array ? 0xffff : 0xffffffff)) {
      const len = at >= d.length ? Math.ceil(d.length * 1.5) : d.length;
      const wide = v > 0xffff || d instanceof Uint32Array ? new Uint32Array(len) : new Uint16Array(len);
      wide.set(d);
      this.data = d = wide;
    }
    d[at] = v;
  }
}

/**
 * Builds a LockedTable row by row: `begin`, then each column's cell through `setBytes` / `setValue`
 * (or `setMissing`), then `end`. Errors are DatasetErrors naming row and column.
 */
export class TableBuilder {
  readonly specs: ColumnSpec[];
  /** File column of each schema column. */
  readonly fileColumn: number[];
  private readonly slots: Slot[];
  private readonly report: MissingReport[];
  private readonly featureOf: number[];
  private readonly caseIdx: number;
  private readonly labelIdx: number;
  private readonly patientIdx: number;
  private readonly sliceIdx: number[];
  private readonly interned: (ByteStrings | null)[];
  private readonly codes: (GrowCodes | null)[];
  private readonly imputeBytes: (Uint8Array | null)[];
  private readonly F: number;
  private features: Float32Array;
  private labels: Uint8Array;
  private readonly droppedCaseIds: string[] = [];
  private readonly droppedRows: number[] = [];
  private row = 0;
  private kept = 0;
  private dropBy = -1;

  constructor(
    readonly name: string,
    schema: DatasetSchema,
    header: readonly string[],
    expectedRows = 1024,
  ) {
    const position = new Map<string, number>();
    header.forEach((h, i) => {
      if (position.has(h))
        throw this.fail('duplicate-column', `column "${h}" appears twice in the header`, undefined, h);
      position.set(h, i);
    });
    const absent = schema.columns.filter((c) => !position.has(c.name)).map((c) => c.name);
    if (absent.length > 0)
      throw this.fail(
        'missing-column',
        `missing required column${absent.length > 1 ? 's' : ''} ${absent.map((c) => `"${c}"`).join(', ')}`,
        undefined,
        absent[0],
      );
    if (schema.extraColumns === 'reject') {
      const named = new Set(schema.columns.map((c) => c.name));
      const extra = header.filter((h) => !named.has(h));
      if (extra.length > 0)
        throw this.fail(
          'unexpected-column',
          `column${extra.length > 1 ? 's' : ''} ${extra.map((c) => `"${c}"`).join(', ')} not in the schema (set extraColumns: ignore to allow)`,
          undefined,
          extra[0],
        );
    }
    this.specs = schema.columns;
    this.fileColumn = this.specs.map((c) => position.get(c.name)!);
    this.slots = this.specs.map(() => ({ num: 0, buf: new Uint8Array(0), s: 0, e: 0 }));
    this.report = this.specs.map((c) => ({
      column: c.name,
      policy: c.missing.policy,
      cells: 0,
      rowsDropped: 0,
      imputed: 0,
    }));
    const roleIdx = (role: ColumnSpec['role']) => this.specs.findIndex((c) => c.role === role);
    this.caseIdx = roleIdx('case_id');
    this.labelIdx = roleIdx('label');
    this.patientIdx = roleIdx('patient_id');
    this.featureOf = this.specs.map(() => -1);
    let f = 0;
    this.specs.forEach((c, k) => {
      if (c.role === 'feature') this.featureOf[k] = f++;
    });
    this.F = f;
    this.labels = new Uint8Array(Math.max(16, expectedRows));
    this.features = new Float32Array(this.labels.length * f);
    this.sliceIdx = this.specs.flatMap((c, k) => (c.role === 'slice' ? [k] : []));
    this.interned = this.specs.map((c, k) =>
      k === this.caseIdx ? new ByteStrings(expectedRows) : c.type === 'string' ? new ByteStrings() : null,
    );
    this.codes = this.specs.map((c, k) =>
      c.type === 'string' && k !== this.caseIdx ? new GrowCodes(this.labels.length) : null,
    );
    this.imputeBytes = this.specs.map((c) =>
      c.missing.policy === 'impute' ? enc.encode(String(c.missing.value)) : null,
    );
  }

  fail(code: DatasetErrorCode, msg: string, row?: number, column?: string): DatasetError {
    return new DatasetError(code, `dataset ${this.name}: ${msg}`, row, column);
  }

  private cellError(k: number, code: DatasetErrorCode, msg: string): DatasetError {
    const rowNo = this.row + 1;
    const name = this.specs[k]!.name;
    return this.fail(code, `row ${rowNo}, column "${name}": ${msg}`, rowNo, name);
  }

  begin(): void {
    this.dropBy = -1;
  }

  /** A number for column `k` (finite doubles only; stored as float32). */
  setNumber(k: number, v: number): void {
    try {
      this.slots[k]!.num = this.specs[k]!.type === 'label' ? v : toFloat32(v);
    } catch (e) {
      if (e instanceof DatasetError) throw this.cellError(k, e.code, e.message);
      throw e;
    }
  }

  /** A string value of column `k` as UTF-8 bytes `buf[s, e)` (valid until `end`). */
  setBytes(k: number, buf: Uint8Array, s: number, e: number): void {
    const slot = this.slots[k]!;
    slot.buf = buf;
    slot.s = s;
    slot.e = e;
  }

  /** Column `k` is missing in this row: apply its policy. */
  setMissing(k: number): void {
    const spec = this.specs[k]!;
    const rep = this.report[k]!;
    rep.cells++;
    if (spec.missing.policy === 'reject') throw this.cellError(k, 'missing-value', 'missing value (policy: reject)');
    if (spec.missing.policy === 'impute') {
      rep.imputed++;
      if (spec.type === 'string') this.setBytes(k, this.imputeBytes[k]!, 0, this.imputeBytes[k]!.length);
      else this.slots[k]!.num = spec.missing.value as number;
    } else {
      this.slots[k]!.s = -1;
      if (this.dropBy >= 0) return;
      this.dropBy = k;
      rep.rowsDropped++;
    }
  }

  /** An invalid (not missing) value in column `k`. */
  invalid(k: number, code: DatasetErrorCode, msg: string): never {
    throw this.cellError(k, code, msg);
  }

  end(): void {
    const rowNo = ++this.row;
    const slots = this.slots;
    if (this.dropBy >= 0) {
      const id = slots[this.caseIdx]!;
      if (id.s >= 0) this.droppedCaseIds.push(this.textOf(id)); // a missing case id names nothing
      this.droppedRows.push(rowNo);
      return;
    }
    const kept = this.kept;
    const ids = this.interned[this.caseIdx]!;
    const cs = slots[this.caseIdx]!;
    const id = ids.intern(cs.buf, cs.s, cs.e);
    if (!ids.lastWasNew) {
      const name = this.specs[this.caseIdx]!.name;
      throw this.fail(
        'duplicate-id',
        `row ${rowNo}, column "${name}": case id "${ids.text(id)}" already used by row ${this.sourceRowOf(id)}`,
        rowNo,
        name,
      );
    }
    if (kept >= this.labels.length) this.growRows();
    this.labels[kept] = slots[this.labelIdx]!.num;
    const base = kept * this.F;
    for (let k = 0; k < slots.length; k++) {
      const f = this.featureOf[k]!;
      if (f >= 0) this.features[base + f] = slots[k]!.num;
      else if (this.codes[k]) {
        const s = slots[k]!;
        this.codes[k]!.push(kept, this.interned[k]!.intern(s.buf, s.s, s.e));
      }
    }
    this.kept++;
  }

  private textOf(slot: Slot): string {
    return Buffer.from(slot.buf.buffer, slot.buf.byteOffset + slot.s, slot.e - slot.s).toString('utf8');
  }

  /** 1-based file row of kept row `k` (dropped rows are skipped over). */
  private sourceRowOf(k: number): number {
    let r = k + 1;
    for (const d of this.droppedRows) {
      if (d <= r) r++;
      else break;
    }
    return r;
  }

  private growRows(): void {
    const labels = new Uint8Array(Math.ceil(this.labels.length * 1.5));
    labels.set(this.labels);
    this.labels = labels;
    const features = new Float32Array(labels.length * this.F);
    features.set(this.features);
    this.features = features;
  }

  finish(): LockedTable {
    const n = this.row;
    const kept = this.kept;
    if (n === 0) throw this.fail('empty', 'no data rows');
    if (kept === 0) throw this.fail('empty', `all ${n} rows were dropped by missing-value policies`);
    const coded = (k: number): CodedColumn => {
      const levels = this.interned[k]!.texts();
      const data = this.codes[k]!.data;
      const codes = kept >= data.length * 0.9 ? data.subarray(0, kept) : data.slice(0, kept);
      return { codes, levels };
    };
    const sliceColumns: Record<string, CodedColumn> = {};
    for (const k of this.sliceIdx) sliceColumns[this.specs[k]!.name] = coded(k);
    let patientIds: string[] | null = null;
    if (this.patientIdx >= 0) {
      const { codes, levels } = coded(this.patientIdx);
      patientIds = Array.from(codes, (c) => levels[c]!);
    }
    const caseIdColumn = this.interned[this.caseIdx]!;
    caseIdColumn.compact();
    let caseIds: string[] | undefined;
    let slices: Record<string, string[]> | undefined;
    return {
      name: this.name,
      sourceRows: n,
      rows: kept,
      get caseIds() {
        return (caseIds ??= caseIdColumn.texts());
      },
      caseIdColumn,
      patientIds,
      labels: fit(this.labels, kept),
      featureNames: this.specs.filter((c) => c.role === 'feature').map((c) => c.name),
      features: fit(this.features, kept * this.F),
      get slices() {
        // interned: every row of a level shares one string
        return (slices ??= Object.fromEntries(
          Object.entries(sliceColumns).map(([name, c]) => [name, Array.from(c.codes, (v) => c.levels[v]!)]),
        ));
      },
      sliceColumns,
      missing: this.report.filter((m) => m.cells > 0),
      droppedCaseIds: this.droppedCaseIds,
    };
  }
}
