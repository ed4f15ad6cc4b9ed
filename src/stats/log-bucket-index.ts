/**
 * The log-sketch bucket index ⌈ln a / ln γ⌉ without a logarithm per value: the gateway sketches every input value it
 * serves (8,000 per 1,000-row request), and `Math.log` was half of that cost.
 *
 * The answer is the same double-for-double as the formula, because it is read from the formula's own results,
 * computed once per γ:
 *   - cells: for each exponent in [2^−30, 2^30) and each value of the top 8 mantissa bits, the formula's index at the
 *     cell's smallest double. A cell (relative width ≤ 2^−8) is narrower than a bucket (γ − 1 ≈ 0.02 at α = 0.01, and
 *     ≥ 2^−7 for any α ≥ 0.004), so it meets at most one bucket boundary;
 *   - boundaries: for each index k, the smallest double whose formula index is k or more, found by stepping ulp by ulp
 *     from γ^(k−1).
 * A value's index is its cell's, plus one if it is at or past the next boundary. This relies on the formula being
 * monotone in a (`Math.log` is, to within its last-ulp rounding, and a boundary is placed where the formula itself
 * steps); `test/unit/log-bucket-index.test.ts` compares the two on every boundary's neighbourhood and on random values.
 * Values outside [2^−30, 2^30), α below MIN_FAST_ALPHA and big-endian hosts use the formula itself.
 */

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Little-endian: the high word of a double (sign, exponent, top mantissa bits) is U32[1]. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const MANTISSA_BITS = 8;
const MIN_EXP = -30;
const MAX_EXP = 30;
const LOWEST = 2 ** MIN_EXP;
const HIGHEST = 2 ** MAX_EXP;
/** The cell number of 2^MIN_EXP: biased exponent and top mantissa bits of the high word. */
const CELL0 = (1023 + MIN_EXP) << MANTISSA_BITS;
/** Below this α a bucket could be narrower than a cell (γ − 1 < 2^−7 needs α < ~0.0039). */
export const MIN_FAST_ALPHA = 0.004;

/** The double after (up: true) or before a finite positive double. */
function step(x: number, up: boolean): number {
  F64[0] = x;
  const lo = U32[0]!;
  if (up) {
    if (lo === 0xffffffff) {
      U32[0] = 0;
      U32[1] = U32[1]! + 1;
    } else U32[0] = lo + 1;
  } else if (lo === 0) {
    U32[0] = 0xffffffff;
    U32[1] = U32[1]! - 1;
  } else U32[0] = lo - 1;
  return F64[0]!;
}

export class LogBucketIndex {
  private readonly cells: Int32Array | null = null;
  /** boundaries[k − first]: the smallest double whose index is ≥ k (Infinity past the range). */
  private readonly boundaries: Float64Array = new Float64Array(0);
  private readonly first: number = 0;

  constructor(
    readonly logGamma: number,
    alpha: number,
  ) {
    if (!LITTLE_ENDIAN || !(alpha >= MIN_FAST_ALPHA)) return;
    const n = (MAX_EXP - MIN_EXP) << MANTISSA_BITS;
    const cells = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      U32[1] = (CELL0 + c) << (20 - MANTISSA_BITS);
      U32[0] = 0;
      cells[c] = this.formula(F64[0]!);
    }
    const first = cells[0]!;
    const last = this.formula(step(HIGHEST, false));
    const boundaries = new Float64Array(last - first + 2);
    boundaries[0] = LOWEST;
    for (let k = first + 1; k <= last; k++) {
      let x = Math.exp((k - 1) * logGamma);
      while (x > LOWEST && this.formula(x) >= k) x = step(x, false);
      while (this.formula(x) < k) x = step(x, true);
      boundaries[k - first] = x;
    }
    boundaries[last - first + 1] = Infinity;
    this.cells = cells;
    this.boundaries = boundaries;
    this.first = first;
  }

  /** ⌈ln a / ln γ⌉, as computed by the formula. */
  formula(a: number): number {
    return Math.ceil(Math.log(a) / this.logGamma);
  }

  /** The formula's index of a > 0, from the tables where they apply. */
  of(a: number): number {
    const cells = this.cells;
    if (cells === null || !(a >= LOWEST && a < HIGHEST)) return this.formula(a);
    F64[0] = a;
    const i = cells[(U32[1]! >>> (20 - MANTISSA_BITS)) - CELL0]!;
    return a >= this.boundaries[i + 1 - this.first]! ? i + 1 : i;
  }
}

const byGamma = new Map<number, LogBucketIndex>();

/** One index per ln γ (its tables take a few milliseconds to build). */
export function logBucketIndex(logGamma: number, alpha: number): LogBucketIndex {
  let index = byGamma.get(logGamma);
  if (!index) byGamma.set(logGamma, (index = new LogBucketIndex(logGamma, alpha)));
  return index;
}
