/**
 * Duplicate and near-duplicate rows across splits, judged against the rate at which rows of these features collide
 * by chance (docs/statistics.md, "Leakage").
 *
 * Distance: two rows are near-duplicates when every feature f agrees within NEAR_RTOL of the larger magnitude, the
 * magnitude floored at the feature's training standard deviation s_f:
 *     |a_f − b_f| ≤ NEAR_RTOL · max(|a_f|, |b_f|, s_f)   for every f.
 * That catches a re-export rounded to 4 decimals (|Δ| ≤ 5e-5 on features of scale ≥ 0.025), a feature rescaled by
 * 1.001, and 1e-9 noise; integers differing by 1 are distinct below 500, so ages and counts are not merged.
 *
 * Chance: a random evaluation row from the training population finds a near twin among the N_t training rows at
 * rate r₀, estimated leave-one-out on the training split itself (the share of training rows with a near twin among
 * the other training rows). With 4 binary features and an integer age most rows have twins (r₀ ≈ 0.8) and
 * duplicates are expected; with continuous measurements r₀ = 0 and any cross-split twin is a copy. The count k of
 * evaluation rows with a training twin is flagged when it exceeds N_e·r₀ at one-sided α = 0.001 (normal
 * approximation, variance N_e·r₀(1 − r₀)(1 + 2N_e/N_t) to carry the uncertainty of r₀), or when r₀ = 0 and k ≥ 1.
 */
import { normalUpperTail } from '../stats/normal';
import type { LeakageFinding } from './checks';

/** Relative tolerance of the near-duplicate distance. */
export const NEAR_RTOL = 2e-3;
/** One-sided level at which cross-split twins beyond the chance rate are flagged. */
export const DUPLICATE_ALPHA = 0.001;
/** Above this chance twin rate the features cannot tell rows apart: row identity (case ids) is compared too. */
export const INDISTINCT_RATE = 0.01;

export interface FeatureMatrix {
  rows: number;
  cols: number;
  /** Row-major [rows, cols]; both splits in the same column order. */
  values: Float32Array;
}

export interface DuplicateStats {
  /** Evaluation rows with a near (or exact) twin in training. */
  near: number;
  /** Of those, rows with an exact twin (same float32 values). */
  exact: number;
  /** Training rows with a near twin among the other training rows, and the rate. */
  trainingTwins: number;
  chanceRate: number;
  /** Expected near count under chance, N_e · r₀. */
  expected: number;
  /** Upper one-sided p-value of `near` under chance (0 when r₀ = 0 and near ≥ 1). */
  pValue: number;
  examples: number[];
}

/** A row's float32 bytes as a string key (-0 written as 0: the same measurement). */
function rowKeys(cols: number) {
  const scratch = new Float32Array(cols);
  const bytes = Buffer.from(scratch.buffer);
  return (x: Float32Array, r: number): string => {
    for (let c = 0; c < cols; c++) {
      const v = x[r * cols + c]!;
      scratch[c] = v === 0 ? 0 : v;
    }
    return bytes.toString('latin1');
  };
}

interface Distinct {
  /** Representative row in the training matrix and how many rows share it exactly. */
  row: number;
  count: number;
}

/** Evaluation rows with training twins and the chance rate of such twins. */
export function duplicateStats(training: FeatureMatrix, evaluation: FeatureMatrix): DuplicateStats {
  const { cols } = training;
  if (evaluation.cols !== cols) throw new RangeError(`evaluation has ${evaluation.cols} features, training ${cols}`);
  const T = training.values;
  const E = evaluation.values;
  const rowKey = rowKeys(cols);
  const byKey = new Map<string, Distinct>();
  for (let r = 0; r < training.rows; r++) {
    const k = rowKey(T, r);
    const d = byKey.get(k);
    if (d) d.count++;
    else byKey.set(k, { row: r, count: 1 });
  }
  const distinct = [...byKey.values()];
  const scale = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < training.rows; r++) {
      const v = T[r * cols + c]!;
      s += v;
      s2 += v * v;
    }
    const m = s / Math.max(1, training.rows);
    scale[c] = Math.sqrt(Math.max(0, s2 / Math.max(1, training.rows) - m * m));
  }
  // Search key: the feature whose values collide least among distinct vectors (smallest Σ count²), so a range scan
  // on it visits few candidates.
  let key = 0;
  let best = Infinity;
  for (let c = 0; c < cols; c++) {
    const counts = new Map<number, number>();
    for (const d of distinct) {
      const v = T[d.row * cols + c]!;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    let mass = 0;
    for (const n of counts.values()) mass += n * n;
    if (mass < best) [best, key] = [mass, c];
  }
  distinct.sort((a, b) => T[a.row * cols + key]! - T[b.row * cols + key]!);
  const keys = Float64Array.from(distinct, (d) => T[d.row * cols + key]!);

  const near = (q: Float32Array, qr: number, t: number): boolean => {
    for (let c = 0; c < cols; c++) {
      const a = q[qr * cols + c]!;
      const b = T[t * cols + c]!;
      if (Math.abs(a - b) > NEAR_RTOL * Math.max(Math.abs(a), Math.abs(b), scale[c]!)) return false;
    }
    return true;
  };
  /** Index of a distinct training vector near row qr of q (other than `self`), or −1. */
  const findNear = (q: Float32Array, qr: number, self: number): number => {
    const v = q[qr * cols + key]!;
    const tol = (NEAR_RTOL * Math.max(Math.abs(v), scale[key]!)) / (1 - NEAR_RTOL);
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < v - tol) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < keys.length && keys[i]! <= v + tol; i++) {
      if (i !== self && near(q, qr, distinct[i]!.row)) return i;
    }
    return -1;
  };

  let trainingTwins = 0;
  distinct.forEach((d, i) => {
    if (d.count > 1 || findNear(T, d.row, i) >= 0) trainingTwins += d.count;
  });
  let nearCount = 0;
  let exact = 0;
  const examples: number[] = [];
  for (let r = 0; r < evaluation.rows; r++) {
    const isExact = byKey.has(rowKey(E, r));
    if (!isExact && findNear(E, r, -1) < 0) continue;
    nearCount++;
    if (isExact) exact++;
    if (examples.length < 3) examples.push(r);
  }
  const chanceRate = training.rows > 0 ? trainingTwins / training.rows : 0;
  const expected = evaluation.rows * chanceRate;
  let pValue = 1;
  if (nearCount > 0) {
    if (chanceRate === 0) pValue = 0;
    else {
      const variance =
        evaluation.rows * chanceRate * (1 - chanceRate) * (1 + (2 * evaluation.rows) / Math.max(1, training.rows));
      pValue =
        variance > 0 ? normalUpperTail((nearCount - expected) / Math.sqrt(variance)) : nearCount > expected ? 0 : 1;
    }
  }
  return { near: nearCount, exact, trainingTwins, chanceRate, expected, pValue, examples };
}

/** The duplicate-rows finding, or none when the twins are what chance gives. */
export function duplicateFinding(stats: DuplicateStats, evaluationRows: number): LeakageFinding[] {
  if (stats.near === 0 || stats.pValue >= DUPLICATE_ALPHA) return [];
  const chance =
    stats.chanceRate === 0
      ? 'no training row has a near twin in its own split, so these are copies, not chance'
      : `chance predicts ${stats.expected.toFixed(1)} from the training split's own twin rate ${(stats.chanceRate * 100).toFixed(1)} % (p = ${stats.pValue.toExponential(1)})`;
  const what =
    stats.exact === stats.near
      ? `${stats.near} evaluation row(s) have exactly the same feature values as a training row`
      : `${stats.near} evaluation row(s) are near-duplicates of a training row (every feature within ${NEAR_RTOL * 100} %, docs/statistics.md), ${stats.exact} of them identical`;
  return [
    {
      check: 'duplicate-rows',
      count: stats.near,
      reason: `${what}; ${chance}. The model may have memorised them: remove them from one split (${((stats.near / Math.max(1, evaluationRows)) * 100).toFixed(1)} % of the evaluation rows).`,
    },
  ];
}
