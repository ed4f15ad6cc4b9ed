import {
  argsortAscending,
  crossSlices,
  crossSlicesWithSubsets,
  encodeAttribute,
  fitRecalibration,
  OVERALL,
  pairedFromPlacements,
  recalibrationColumns,
  StatsInputError,
  summarizeSorted,
  thresholdForSensitivity,
  toLabels,
  toScores,
  type EncodedAttribute,
  type RecalibrationColumns,
  type SliceDefinition,
} from '../stats';
import { judge } from './judge';
import { modelMetrics } from './metrics';
import { checkAttributes, referencedAttributes, type AcceptancePolicy, type Criterion } from './policy';
import type {
  AcceptanceReport,
  CodedAttribute,
  EvaluationInput,
  ModelRaw,
  SliceRaw,
  ThresholdReport,
  ThresholdRule,
} from './types';

export type * from './types';
export { metricValue } from './metrics';

/**
 * An attribute as sorted level codes. A coded column (a reader's interned strings) is remapped without
 * touching a string per row; levels no kept row uses are left out, exactly as encoding the strings would.
 */
function encodeColumn(name: string, column: ArrayLike<string> | CodedAttribute, rows: number): EncodedAttribute {
  if (!('codes' in column)) return encodeAttribute(name, column, rows);
  const { codes, levels } = column;
  if (codes.length !== rows)
    throw new StatsInputError(`attribute ${name} has ${codes.length} rows but labels has ${rows}`, name);
  const used = new Uint8Array(levels.length);
  for (let i = 0; i < rows; i++) {
    const c = codes[i]!;
    if (c >= levels.length) throw new StatsInputError(`attribute ${name}: row ${i} has no level (code ${c})`, name, i);
    used[c] = 1;
  }
  const present: string[] = [];
  levels.forEach((level, c) => {
    if (!used[c]) return;
    if (typeof level !== 'string' || level.length === 0)
      throw new StatsInputError(
        `attribute ${name}: a level must be a non-empty string, got ${JSON.stringify(level)}`,
        name,
      );
    present.push(level);
  });
  const sorted = [...present].sort();
  const rank = new Map(sorted.map((l, k) => [l, k]));
  const remap = new Uint32Array(levels.length);
  levels.forEach((level, c) => {
    if (used[c]) remap[c] = rank.get(level)!;
  });
  if (rank.size !== present.length) throw new StatsInputError(`attribute ${name}: a level is listed twice`, name);
  const out = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = remap[codes[i]!]!;
  return { name, levels: sorted, codes: out };
}

function chooseThresholds(rule: ThresholdRule): { candidate: ThresholdReport; incumbent: ThresholdReport } {
  if (rule.kind === 'fixed') {
    for (const [name, t] of [
      ['threshold', rule.threshold],
      ['incumbentThreshold', rule.incumbentThreshold ?? rule.threshold],
    ] as const) {
      if (typeof t !== 'number' || Number.isNaN(t))
        throw new StatsInputError(`thresholdRule.${name} must be a number, got ${String(t)}`, name);
    }
    const incumbent = rule.incumbentThreshold ?? rule.threshold;
    return {
      candidate: { threshold: rule.threshold, rule: 'fixed threshold from the policy' },
      incumbent: { threshold: incumbent, rule: 'fixed threshold from the policy' },
    };
  }
  const { tuning, minSensitivity } = rule;
  return {
    candidate: thresholdForSensitivity(tuning.candidateScores, tuning.labels, minSensitivity),
    incumbent: thresholdForSensitivity(tuning.incumbentScores, tuning.labels, minSensitivity),
  };
}

/** All slices the policy needs, overall first, deduplicated by id, grouped by their attribute list. */
function collectSlices(policy: AcceptancePolicy, encoded: Map<string, EncodedAttribute>): SliceDefinition[][] {
  const groups = new Map<string, SliceDefinition[]>([['', [OVERALL]]]);
  for (const c of policy.criteria) {
    if (c.slices === 'overall') continue;
    const attrs = c.slices.attributes.map((a) => encoded.get(a)!);
    const defs = c.slices.includeSubsets ? crossSlicesWithSubsets(attrs) : crossSlices(attrs);
    for (const def of defs) {
      const key = def.attributes.join('\u0000');
      const group = groups.get(key) ?? [];
      if (!group.some((d) => d.id === def.id)) group.push(def);
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

/** Slice ids of one criterion, in report order. */
function criterionSliceIds(c: Criterion, encoded: Map<string, EncodedAttribute>): string[] {
  if (c.slices === 'overall') return ['overall'];
  const attrs = c.slices.attributes.map((a) => encoded.get(a)!);
  return (c.slices.includeSubsets ? crossSlicesWithSubsets(attrs) : crossSlices(attrs)).map((d) => d.id);
}

/**
 * One model's columns permuted into its ascending score order (position k holds row `order[k]`). Every slice
 * pass then reads memory forward instead of jumping across a million rows; slices still visit the same rows
 * in the same sequence, so every sum — and every statistic — is bit-identical to reading rows in place.
 */
interface SortedModel {
  threshold: number;
  order: Uint32Array;
  scores: Float64Array;
  labels: Uint8Array;
  placement: Float64Array;
  recal: RecalibrationColumns | null;
  /** Positions grouped by slice cell (sorted within each cell). */
  bucket: Uint32Array;
}

function sortedModel(scores: Float64Array, labels: Uint8Array, threshold: number): SortedModel {
  const n = scores.length;
  const order = argsortAscending(scores);
  const sorted = new Float64Array(n);
  const sortedLabels = new Uint8Array(n);
  let probabilities = true;
  for (let k = 0; k < n; k++) {
    const row = order[k]!;
    const s = scores[row]!;
    sorted[k] = s;
    sortedLabels[k] = labels[row]!;
    if (!(s >= 0 && s <= 1)) probabilities = false;
  }
  return {
    threshold,
    order,
    scores: sorted,
    labels: sortedLabels,
    placement: new Float64Array(n),
    recal: probabilities ? recalibrationColumns(sorted) : null,
    bucket: new Uint32Array(n),
  };
}

/** Stable counting sort of a model's positions by the row's slice cell; returns each cell's start. */
type Codes = Uint8Array | Uint16Array | Uint32Array;

/** Codes below `cells` in the narrowest array: a smaller table to look rows up in at random. */
function codesFor(cells: number, n: number): Codes {
  return cells <= 0x100 ? new Uint8Array(n) : cells <= 0x10000 ? new Uint16Array(n) : new Uint32Array(n);
}

function bucketByCell(m: SortedModel, cellOfRow: Codes, cells: number, cell: Codes): Uint32Array {
  const { order, bucket } = m;
  const start = new Uint32Array(cells + 1);
  for (let k = 0; k < order.length; k++) {
    const c = cellOfRow[order[k]!]!;
    cell[k] = c;
    start[c + 1]!++;
  }
  for (let c = 0; c < cells; c++) start[c + 1]! += start[c]!;
  const next = start.slice(0, cells);
  for (let k = 0; k < cell.length; k++) bucket[next[cell[k]!]!++] = k;
  return start;
}

/**
 * Contiguous copies of one model's recalibration columns and labels in bucket order, shared by both models
 * in turn. The Newton fits pass over a slice's rows ~10 times; reading them from a copy in slice order
 * instead of through the bucket's positions keeps those passes in cache-line order once the columns are far
 * larger than the cache (at 5M rows each column is 40 MB). Same rows, same order: the same sums.
 */
interface Gathered {
  logits: Float64Array;
  oddsAgainst: Float64Array;
  labels: Uint8Array;
  /** 0, 1, 2, …: the members of a gathered slice. */
  iota: Uint32Array;
}

function gatheredScratch(n: number): Gathered {
  const iota = new Uint32Array(n);
  for (let i = 0; i < n; i++) iota[i] = i;
  return { logits: new Float64Array(n), oddsAgainst: new Float64Array(n), labels: new Uint8Array(n), iota };
}

/** `m`'s columns in bucket order: copied into `g`, or the model's own when one cell holds every row. */
function gather(m: SortedModel, g: Gathered, oneCell: boolean): Gathered {
  const { bucket, labels } = m;
  // one cell: the bucket is 0, 1, 2, … and the columns are already in its order
  if (oneCell)
    return {
      logits: m.recal?.logits ?? g.logits,
      oddsAgainst: m.recal?.oddsAgainst ?? g.oddsAgainst,
      labels,
      iota: g.iota,
    };
  for (let k = 0; k < bucket.length; k++) g.labels[k] = labels[bucket[k]!]!;
  if (!m.recal) return g;
  const { logits, oddsAgainst } = m.recal;
  for (let k = 0; k < bucket.length; k++) {
    const p = bucket[k]!;
    g.logits[k] = logits[p]!;
    g.oddsAgainst[k] = oddsAgainst[p]!;
  }
  return g;
}

/**
 * Both models on every slice of one group (slices over the same attributes, so disjoint cells of one
 * bucketing): sums, recalibration fits, then the paired DeLong test. The incumbent's placements are written
 * at the candidate's positions of the same rows (`toCandidate`), so the paired test reads both in the
 * candidate's order without a gather.
 */
function measureGroup(
  defs: { def: SliceDefinition; from: number[]; to: number[] }[],
  models: [SortedModel, SortedModel],
  scratch: Gathered,
  oneCell: boolean,
  toCandidate: Uint32Array,
  bins: number,
  level: number,
): SliceRaw[] {
  const positives = defs.map(() => 0);
  const perModel = models.map((m, j): ModelRaw[] => {
    const g = gather(m, scratch, oneCell);
    return defs.map(({ from, to }, d) => {
      const len = to[j]! - from[j]!;
      const labels = g.labels.subarray(from[j], to[j]);
      if (j === 0) for (let k = 0; k < len; k++) positives[d]! += labels[k]!;
      const seg = m.bucket.subarray(from[j], to[j]);
      const at = j === 1 ? toCandidate : null;
      const summary = summarizeSorted(seg, len, positives[d]!, m.scores, m.labels, m.threshold, m.placement, bins, at);
      const recal: RecalibrationColumns = {
        logits: g.logits.subarray(from[j], to[j]),
        oddsAgainst: g.oddsAgainst.subarray(from[j], to[j]),
      };
      return { summary, recalibration: m.recal ? fitRecalibration(recal, labels, g.iota, len, positives[d]) : null };
    });
  });
  return defs.map(({ def, from, to }, d): SliceRaw => {
    const rc = perModel[0]![d]!;
    const ri = perModel[1]![d]!;
    let paired = null;
    if (rc.summary.auc !== null && ri.summary.auc !== null) {
      paired = pairedFromPlacements(
        models[0].bucket.subarray(from[0], to[0]),
        to[0]! - from[0]!,
        models[0].labels,
        models[0].placement,
        models[1].placement,
        rc.summary.auc,
        ri.summary.auc,
        level,
      );
    }
    return { def, candidate: rc, incumbent: ri, paired };
  });
}

/**
 * Validated scores: a float64 column of finite values without −0 is used as it is (the sorted copy is made
 * anyway); anything else is copied and checked by `toScores` (which also turns −0 into 0 for the sort).
 */
function scoresOf(values: ArrayLike<number>, column: string): Float64Array {
  if (values instanceof Float64Array) {
    let clean = true;
    for (let i = 0; i < values.length && clean; i++) {
      const v = values[i]!;
      clean = Number.isFinite(v) && (v !== 0 || 1 / v > 0);
    }
    if (clean) return values;
  }
  return toScores(values, column);
}

/** Mixed-radix cell code of each row over `attrs`. */
function cellCodes(attrs: EncodedAttribute[], n: number, cells: number): Codes {
  const cell = codesFor(cells, n);
  for (const a of attrs) {
    const k = Math.max(1, a.levels.length);
    for (let i = 0; i < n; i++) cell[i] = cell[i]! * k + a.codes[i]!;
  }
  return cell;
}

/** The pure evaluator: every metric with its interval on every slice the policy names, then each criterion. */
export function evaluateAcceptance(input: EvaluationInput): AcceptanceReport {
  const { policy } = input;
  const labels = toLabels(input.labels);
  const n = labels.length;
  const candidate = scoresOf(input.candidateScores, 'candidateScores');
  const incumbent = scoresOf(input.incumbentScores, 'incumbentScores');
  if (candidate.length !== n)
    throw new StatsInputError(`candidateScores has ${candidate.length} rows but labels has ${n}`, 'candidateScores');
  if (incumbent.length !== n)
    throw new StatsInputError(`incumbentScores has ${incumbent.length} rows but labels has ${n}`, 'incumbentScores');
  checkAttributes(policy, Object.keys(input.attributes));
  const encoded = new Map<string, EncodedAttribute>();
  for (const name of referencedAttributes(policy)) encoded.set(name, encodeColumn(name, input.attributes[name]!, n));

  const thresholds = chooseThresholds(input.thresholdRule);
  const level = policy.confidenceLevel;
  const method = policy.proportionInterval;
  const models: [SortedModel, SortedModel] = [
    sortedModel(candidate, labels, thresholds.candidate.threshold),
    sortedModel(incumbent, labels, thresholds.incumbent.threshold),
  ];
  const scratch = new Uint32Array(n); // a row's candidate position here, then cell codes while bucketing
  for (let k = 0; k < n; k++) scratch[models[0].order[k]!] = k;
  const toCandidate = new Uint32Array(n); // incumbent position → candidate position of the same row
  for (let k = 0; k < n; k++) toCandidate[k] = scratch[models[1].order[k]!]!;

  const raws: SliceRaw[] = [];
  const gathered = gatheredScratch(n);
  for (const group of collectSlices(policy, encoded)) {
    const attrs = group[0]!.attributes.map((a) => encoded.get(a)!);
    const cells = attrs.reduce((p, a) => p * Math.max(1, a.levels.length), 1);
    const cell = cellCodes(attrs, n, cells);
    const cellByPosition = cells <= 0x100 ? new Uint8Array(n) : scratch;
    const starts = models.map((m) => bucketByCell(m, cell, cells, cellByPosition));
    const defs = group.map((def) => {
      const c = def.levelCodes.reduce((acc, l, k) => acc * Math.max(1, attrs[k]!.levels.length) + l, 0);
      return { def, from: starts.map((st) => st[c]!), to: starts.map((st) => st[c + 1]!) };
    });
    raws.push(...measureGroup(defs, models, gathered, cells === 1, toCandidate, policy.calibrationBins, level));
  }

  const byId = new Map(raws.map((r) => [r.def.id, r]));
  const criteria = policy.criteria.map((c, i) =>
    judge(c, `criterion-${i + 1}`, criterionSliceIds(c, encoded), byId, policy),
  );
  return {
    accepted: criteria.every((c) => c.passed),
    n,
    thresholds,
    confidenceLevel: level,
    proportionInterval: method,
    criteria,
    slices: raws.map((r) => ({
      slice: r.def.id,
      n: r.candidate.summary.n,
      positives: r.candidate.summary.positives,
      negatives: r.candidate.summary.negatives,
      candidate: modelMetrics(r.candidate, level, method, policy.eceBinning),
      incumbent: modelMetrics(r.incumbent, level, method, policy.eceBinning),
      paired: r.paired,
    })),
  };
}
