/**
 * Label proxies: inputs that on their own (or as a pair) nearly determine the label — a post-outcome field, the
 * label under another name, the label split over two columns. docs/statistics.md, "Leakage".
 *
 * Rule: a feature is flagged when the lower one-sided confidence bound of its AUC (DeLong variance) reaches the
 * policy's bar, family-wise at 5 % over every (feature, scope) judged — so a feature whose true AUC is below the
 * bar is flagged with probability ≤ 5 %, whatever the number of features and sites. Scopes are the whole split
 * and each site with ≥ MIN_CLASS rows of each class (a proxy recorded at one site only is diluted overall).
 * The pair probe fits a ridge-regularised Fisher discriminant on the even rows of each pair of features and
 * measures its AUC on the odd rows (held out, so two fitted weights cannot flatter it), against pairAucBar.
 */
import { delongAuc } from '../stats/delong';
import { normalQuantile } from '../stats/normal';
import { LeakageInputError, type LeakageFinding } from './checks';

/** Default AUC bar: above the best single clinical measurements on record (docs/statistics.md). */
export const DEFAULT_MAX_FEATURE_AUC = 0.97;
/** Family-wise rate of flagging a feature whose true AUC is below the bar. */
export const PROXY_FAMILY_ALPHA = 0.05;
/**
 * The bar a pair must reach: a tenth of the single-feature bar's misordered share, 1 − (1 − bar)/10 (0.997 at the
 * default). Two real measurements can beat either alone — "worst texture" + "worst perimeter" of the Wisconsin
 * breast-cancer data reach held-out AUC 0.997 — while a label split over two columns orders every case.
 */
export function pairAucBar(maxAuc: number): number {
  return 1 - (1 - maxAuc) / 10;
}
/** A site is judged on its own only with at least this many positives and negatives. */
export const MIN_CLASS = 10;
/** The pair probe reads at most this many rows (an even stride through the split), so it stays cheap. */
export const PAIR_PROBE_ROWS = 20_000;
/** Pairs are probed among at most this many features (the strongest alone first): 190 pairs. */
export const PAIR_PROBE_FEATURES = 20;

export interface LabelProxyInput {
  featureNames: readonly string[];
  /** Row-major [rows, featureNames.length]. */
  features: Float32Array;
  labels: ArrayLike<number>;
  /** Site of each row, when the policy names a site column. */
  sites?: readonly string[] | null;
}

interface Scored {
  auc: number;
  /** One-sided lower bound of max(AUC, 1 − AUC). */
  lower: number;
}

/** AUC oriented towards separation (max(AUC, 1 − AUC)) and its lower bound at z; null when a class is absent. */
function score(values: ArrayLike<number>, labels: ArrayLike<number>, z: number): Scored | null {
  const e = delongAuc(values, labels);
  if (e.auc === null) return null;
  const auc = Math.max(e.auc, 1 - e.auc);
  return { auc, lower: auc - z * Math.sqrt(e.variance ?? 0) };
}

function column(x: Float32Array, cols: number, c: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = x[rows[i]! * cols + c]!;
  return out;
}

function classCounts(labels: ArrayLike<number>, rows: readonly number[]): [number, number] {
  let pos = 0;
  for (const r of rows) pos += labels[r]! ? 1 : 0;
  return [pos, rows.length - pos];
}

/** Single features overall and per site, then pairs; findings name the scope and the AUC with its bound. */
export function labelProxies(input: LabelProxyInput, maxAuc = DEFAULT_MAX_FEATURE_AUC): LeakageFinding[] {
  if (!(maxAuc > 0.5 && maxAuc <= 1)) throw new RangeError(`maxFeatureAuc must be in (0.5, 1], got ${maxAuc}`);
  const { featureNames, features, labels } = input;
  const cols = featureNames.length;
  const n = labels.length;
  if (features.length !== n * cols)
    throw new LeakageInputError(`feature matrix has ${features.length} values, expected ${n} rows × ${cols} features`);
  if (input.sites && input.sites.length !== n)
    throw new LeakageInputError(`${input.sites.length} site values for ${n} rows`);
  const all = Array.from({ length: n }, (_, i) => i);
  const scopes: { name: string | null; rows: number[] }[] = [{ name: null, rows: all }];
  if (input.sites) {
    const bySite = new Map<string, number[]>();
    input.sites.forEach((s, i) => bySite.set(s, [...(bySite.get(s) ?? []), i]));
    for (const [site, rows] of [...bySite].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [pos, neg] = classCounts(labels, rows);
      if (pos >= MIN_CLASS && neg >= MIN_CLASS && bySite.size > 1) scopes.push({ name: site, rows });
    }
  }
  const probeFeatures = Math.min(cols, PAIR_PROBE_FEATURES);
  const tests = cols * scopes.length + (probeFeatures * (probeFeatures - 1)) / 2;
  const z = normalQuantile(1 - PROXY_FAMILY_ALPHA / Math.max(1, tests));
  const bar = (s: Scored) => (s.auc === 1 ? 'perfectly separates the classes' : `has AUC ${s.auc.toFixed(4)}`);
  const bound = (s: Scored, limit = maxAuc) =>
    `lower ${((1 - PROXY_FAMILY_ALPHA) * 100).toFixed(0)} % family-wise bound ${s.lower.toFixed(4)} ≥ ${limit}`;

  const findings: LeakageFinding[] = [];
  const flagged = new Set<number>();
  const overall: { c: number; auc: number }[] = [];
  for (const scope of scopes) {
    for (let c = 0; c < cols; c++) {
      const s = score(
        column(features, cols, c, scope.rows),
        scope.rows.length === n ? labels : pick(labels, scope.rows),
        z,
      );
      if (!s) continue;
      if (scope.name === null) overall.push({ c, auc: s.auc });
      if (s.lower < maxAuc || flagged.has(c)) continue;
      flagged.add(c);
      const name = featureNames[c]!;
      const where = scope.name === null ? '' : ` at site ${scope.name}`;
      findings.push({
        check: 'single-feature',
        feature: name,
        auc: s.auc,
        ...(scope.name !== null ? { site: scope.name } : {}),
        reason: `feature "${name}" alone ${bar(s)}${where} (${bound(s)}); a single input this predictive usually encodes the outcome.`,
      });
    }
  }

  // Pairs among the strongest features alone, skipping pairs with a feature already flagged.
  const strongest = overall
    .filter((o) => !flagged.has(o.c))
    .sort((a, b) => b.auc - a.auc || a.c - b.c)
    .slice(0, probeFeatures)
    .map((o) => o.c)
    .sort((a, b) => a - b);
  const pairBar = pairAucBar(maxAuc);
  const stride = Math.max(1, Math.ceil(n / PAIR_PROBE_ROWS));
  const fit: number[] = [];
  const held: number[] = [];
  for (let r = 0, k = 0; r < n; r += stride, k++) (k % 2 === 0 ? fit : held).push(r);
  const heldLabels = pick(labels, held);
  for (let i = 0; i < strongest.length; i++) {
    for (let j = i + 1; j < strongest.length; j++) {
      const [a, b] = [strongest[i]!, strongest[j]!];
      const w = fisherDirection(features, cols, a, b, fit, labels);
      if (!w) continue;
      const projected = new Float64Array(held.length);
      held.forEach((r, k) => (projected[k] = w[0] * features[r * cols + a]! + w[1] * features[r * cols + b]!));
      const s = score(projected, heldLabels, z);
      if (!s || s.lower < pairBar) continue;
      const names = [featureNames[a]!, featureNames[b]!];
      findings.push({
        check: 'feature-pair',
        feature: names.join(' + '),
        auc: s.auc,
        reason: `features "${names[0]}" and "${names[1]}" together ${bar(s)} on held-out rows (${bound(s, pairBar)}), though neither does alone; two inputs that leave almost no case misordered usually encode the outcome between them.`,
      });
    }
  }
  return findings;
}

function pick(labels: ArrayLike<number>, rows: readonly number[]): Uint8Array {
  const out = new Uint8Array(rows.length);
  rows.forEach((r, i) => (out[i] = labels[r]! ? 1 : 0));
  return out;
}

/**
 * Fisher's discriminant direction (Σ_w + λI)⁻¹(μ₁ − μ₀) of two features on the given rows, the within-class
 * covariance ridged by 1e-9 of its trace so a pair that is exactly collinear within classes (x + y = label) still
 * gives the direction that separates. Null when a class is absent.
 */
function fisherDirection(
  x: Float32Array,
  cols: number,
  a: number,
  b: number,
  rows: readonly number[],
  labels: ArrayLike<number>,
): [number, number] | null {
  const sum = [
    [0, 0],
    [0, 0],
  ];
  const cnt = [0, 0];
  for (const r of rows) {
    const y = labels[r]! ? 1 : 0;
    sum[y]![0]! += x[r * cols + a]!;
    sum[y]![1]! += x[r * cols + b]!;
    cnt[y]!++;
  }
  if (cnt[0]! < 2 || cnt[1]! < 2) return null;
  const mean = [0, 1].map((y) => [sum[y]![0]! / cnt[y]!, sum[y]![1]! / cnt[y]!]);
  let [saa, sab, sbb] = [0, 0, 0];
  for (const r of rows) {
    const m = mean[labels[r]! ? 1 : 0]!;
    const da = x[r * cols + a]! - m[0]!;
    const db = x[r * cols + b]! - m[1]!;
    saa += da * da;
    sab += da * db;
    sbb += db * db;
  }
  const ridge = 1e-9 * (saa + sbb) + 1e-300;
  saa += ridge;
  sbb += ridge;
  const det = saa * sbb - sab * sab;
  const [d0, d1] = [mean[1]![0]! - mean[0]![0]!, mean[1]![1]! - mean[0]![1]!];
  return [(sbb * d0 - sab * d1) / det, (saa * d1 - sab * d0) / det];
}
