/**
 * Chance-corrected inter-rater agreement.
 *   Cohen (1960), two raters:  κ = (p_o − p_e) / (1 − p_e), p_e from each rater's own marginals.
 *   Fleiss (1971), n ≥ 2 ratings per subject (raters may differ between subjects):
 *     P_i = (Σ_j n_ij² − n) / (n(n − 1)),  P̄ = mean P_i,  P̄_e = Σ_j p_j²,  κ = (P̄ − P̄_e) / (1 − P̄_e).
 * κ is undefined when chance agreement is 1 (every rating in one category); that throws rather than
 * returning NaN, which could not be written to a manifest.
 */

export interface KappaResult {
  kappa: number;
  observedAgreement: number;
  expectedAgreement: number;
  standardError: number;
  subjects: number;
  categories: string[];
}

export class KappaError extends Error {
  override name = 'KappaError';
}

type Label = string | number;

export function cohensKappa(ratingsA: readonly Label[], ratingsB: readonly Label[]): KappaResult {
  if (ratingsA.length !== ratingsB.length)
    throw new KappaError(`rater A has ${ratingsA.length} ratings, rater B ${ratingsB.length}`);
  if (ratingsA.length === 0) throw new KappaError('no ratings');
  const categories = [...new Set([...ratingsA, ...ratingsB].map(String))].sort();
  const index = new Map(categories.map((c, i) => [c, i]));
  const table = categories.map(() => categories.map(() => 0));
  ratingsA.forEach((a, i) => {
    table[index.get(String(a))!]![index.get(String(ratingsB[i]))!]! += 1;
  });
  return { ...cohensKappaFromTable(table), categories };
}

/**
 * Cohen's κ from a k×k contingency table (rows: rater A, columns: rater B). The standard error is Cohen's
 * (1960) large-sample approximation sqrt(p_o(1 − p_o) / (N(1 − p_e)²)).
 */
export function cohensKappaFromTable(
  table: readonly (readonly number[])[],
): Omit<KappaResult, 'categories'> & { categories: string[] } {
  const k = table.length;
  if (k === 0 || table.some((row) => row.length !== k))
    throw new KappaError('contingency table must be square and non-empty');
  let n = 0;
  let agree = 0;
  const rowSums = new Array<number>(k).fill(0);
  const colSums = new Array<number>(k).fill(0);
  table.forEach((row, i) =>
    row.forEach((v, j) => {
      if (!Number.isInteger(v) || v < 0) throw new KappaError('contingency counts must be non-negative integers');
      n += v;
      rowSums[i]! += v;
      colSums[j]! += v;
      if (i === j) agree += v;
    }),
  );
  if (n === 0) throw new KappaError('no ratings');
  const po = agree / n;
  const pe = rowSums.reduce((acc, r, i) => acc + (r / n) * (colSums[i]! / n), 0);
  if (pe >= 1) throw new KappaError('kappa is undefined: both raters used a single category for every subject');
  return {
    kappa: (po - pe) / (1 - pe),
    observedAgreement: po,
    expectedAgreement: pe,
    standardError: Math.sqrt((po * (1 - po)) / (n * (1 - pe) ** 2)),
    subjects: n,
    categories: table.map((_, i) => String(i)),
  };
}

/**
 * Fleiss' κ from a subjects × categories matrix of rating counts; every row must sum to the same n ≥ 2.
 * The standard error is Fleiss, Nee & Landis (1979)'s, valid under the null hypothesis κ = 0.
 */
export function fleissKappa(counts: readonly (readonly number[])[], categories?: readonly string[]): KappaResult {
  const N = counts.length;
  if (N === 0) throw new KappaError('no subjects');
  const k = counts[0]!.length;
  if (k === 0 || counts.some((row) => row.length !== k))
    throw new KappaError('every subject needs a count for every category');
  if (categories && categories.length !== k) throw new KappaError('category names do not match the matrix width');
  const n = counts[0]!.reduce((a, b) => a + b, 0);
  if (n < 2) throw new KappaError('each subject needs at least two ratings');
  const colSums = new Array<number>(k).fill(0);
  let sumPi = 0;
  counts.forEach((row, i) => {
    let rowSum = 0;
    let sq = 0;
    row.forEach((v, j) => {
      if (!Number.isInteger(v) || v < 0) throw new KappaError('rating counts must be non-negative integers');
      rowSum += v;
      sq += v * v;
      colSums[j]! += v;
    });
    if (rowSum !== n) throw new KappaError(`subject ${i} has ${rowSum} ratings, expected ${n} like the first subject`);
    sumPi += (sq - n) / (n * (n - 1));
  });
  const p = colSums.map((c) => c / (N * n));
  const pBar = sumPi / N;
  const peBar = p.reduce((a, pj) => a + pj * pj, 0);
  if (peBar >= 1) throw new KappaError('kappa is undefined: every rating is in a single category');
  const pq = p.reduce((a, pj) => a + pj * (1 - pj), 0);
  const pqqp = p.reduce((a, pj) => a + pj * (1 - pj) * (1 - 2 * pj), 0);
  const se = (Math.SQRT2 / (pq * Math.sqrt(N * n * (n - 1)))) * Math.sqrt(Math.max(0, pq * pq - pqqp));
  return {
    kappa: (pBar - peBar) / (1 - peBar),
    observedAgreement: pBar,
    expectedAgreement: peBar,
    standardError: se,
    subjects: N,
    categories: categories ? [...categories] : colSums.map((_, j) => String(j)),
  };
}

export interface RaterLabel {
  subject: string;
  rater: string;
  label: string;
}

export interface AgreementSummary extends KappaResult {
  method: 'cohen' | 'fleiss';
  raters: number;
}

/**
 * Agreement from long-format labels (one row per subject × rater): Cohen's κ for exactly two raters (each
 * must label every subject), Fleiss' κ for three or more (every subject needs the same number of ratings).
 */
export function agreementFromLabels(labels: readonly RaterLabel[]): AgreementSummary {
  const raters = [...new Set(labels.map((l) => l.rater))].sort();
  const bySubject = new Map<string, Map<string, string>>();
  for (const { subject, rater, label } of labels) {
    const ratings = bySubject.get(subject) ?? new Map<string, string>();
    if (ratings.has(rater)) throw new KappaError(`rater ${rater} labelled subject ${subject} more than once`);
    ratings.set(rater, label);
    bySubject.set(subject, ratings);
  }
  if (raters.length < 2) throw new KappaError(`agreement needs at least two raters, found ${raters.length}`);
  const subjects = [...bySubject.keys()].sort();

  if (raters.length === 2) {
    const [a, b] = raters as [string, string];
    const incomplete = subjects.find((s) => bySubject.get(s)!.size !== 2);
    if (incomplete !== undefined)
      throw new KappaError(`subject ${incomplete} was not labelled by both raters ${a} and ${b}`);
    const res = cohensKappa(
      subjects.map((s) => bySubject.get(s)!.get(a)!),
      subjects.map((s) => bySubject.get(s)!.get(b)!),
    );
    return { ...res, method: 'cohen', raters: 2 };
  }

  const categories = [...new Set(labels.map((l) => l.label))].sort();
  const col = new Map(categories.map((c, j) => [c, j]));
  const matrix = subjects.map((s) => {
    const row = new Array<number>(categories.length).fill(0);
    for (const label of bySubject.get(s)!.values()) row[col.get(label)!]! += 1;
    return row;
  });
  return { ...fleissKappa(matrix, categories), method: 'fleiss', raters: raters.length };
}
