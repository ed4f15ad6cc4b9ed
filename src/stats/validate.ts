import { StatsInputError } from './errors';

/** Copies scores into a Float64Array, rejecting NaN/±Infinity and folding -0 into 0 (ties must compare equal). */
export function toScores(values: ArrayLike<number>, column: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new StatsInputError(`${column}: score at row ${i} is not a finite number (${String(v)})`, column, i);
    }
    out[i] = v === 0 ? 0 : v;
  }
  return out;
}

/** Copies labels into a Uint8Array, rejecting anything but 0 and 1. */
export function toLabels(values: ArrayLike<number>, column = 'labels'): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1)
      throw new StatsInputError(`${column}: label at row ${i} must be 0 or 1, got ${String(v)}`, column, i);
    out[i] = v;
  }
  return out;
}

export function assertSameLength(expected: number, what: string, actual: number, column: string): void {
  if (actual !== expected) {
    throw new StatsInputError(`${column} has ${actual} rows but ${what} has ${expected}`, column);
  }
}

export function assertLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new StatsInputError(`confidence level must be in (0, 1), got ${level}`, 'level');
}

/** Rejects a non-finite value in a drift column, naming row and column (missing values are counted separately). */
export function finiteColumn(values: readonly number[], column: string): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new StatsInputError(
        `${column}: non-finite value ${v} at row ${i}; count missing values separately`,
        column,
        i,
      );
  });
}
