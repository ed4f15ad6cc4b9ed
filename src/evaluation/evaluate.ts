import {
  argsortAscending,
  crossSlices,
  crossSlicesWithSubsets,
  encodeAttribute,
  fitRecalibration,
  OVERALL,
  pairedFromPlacements,
  fillRecalibrationColumns,
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
  const out = codesFor(sorted.length, rows, false);
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
export interface SortedModel {
  threshold: number;
  order: Uint32Array;
  scores: Float64Array;
  labels: Uint8Array;
  placement: Float64Array;
  /** Whether every score is a probability (then the recalibration fits run). */
  probabilities: boolean;
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
    probabilities,
    bucket: new Uint32Array(n),
  };
}

/** Stable counting sort of a model's positions by the row's slice cell; returns each cell's start. */
type Codes = Uint8Array | Uint16Array | Uint32Array;

/**
 * Codes below `cells` in the narrowest array: a smaller table to look rows up in at random. `shared`: in
 * shared memory, so a second thread measuring the other model reads the same codes instead of a copy.
 */
function codesFor(cells: number, n: number, shared = true): Codes {
  const bytes = cells <= 0x100 ? 1 : cells <= 0x10000 ? 2 : 4;
  const buffer = shared ? new SharedArrayBuffer(bytes * n) : new ArrayBuffer(bytes * n);
  return bytes === 1 ? new Uint8Array(buffer) : bytes === 2 ? new Uint16Array(buffer) : new Uint32Array(buffer);
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
 * Contiguous copies of one model's recalibration columns and labels in bucket order. The Newton fits pass
 * over a slice's rows ~10 times; reading them from a copy in slice order instead of through the bucket's
 * positions keeps those passes in cache-line order once the columns are far larger than the cache (at 5M
 * rows each column is 40 MB). Same rows, same order: the same sums.
 */
interface Gathered {
  logits: Float64Array;
  oddsAgainst: Float64Array;
  labels: Uint8Array;
  /** 0, 1, 2, …: the members of a gathered slice. */
  iota: Uint32Array;
  /** Cell of each position while bucketing, when a group has more than 256 cells. */
  wideCells: Uint32Array | null;
}

/** 0, 1, 2, … n − 1, in shared memory (read-only, so both threads use one). */
function iotaOf(n: number): Uint32Array {
  const iota = new Uint32Array(new SharedArrayBuffer(4 * n));
  for (let i = 0; i < n; i++) iota[i] = i;
  return iota;
}

function gatheredScratch(n: number, iota: Uint32Array): Gathered {
  return {
    logits: new Float64Array(n),
    oddsAgainst: new Float64Array(n),
    labels: new Uint8Array(n),
    iota,
    wideCells: null,
  };
}

/**
 * `m`'s labels and recalibration columns in bucket order, written into `g` (the columns are computed there
 * rather than kept per row for the whole model: 80 MB less per model at 5M rows); with one cell holding
 * every row the bucket is 0, 1, 2, … and the model's labels are used as they are.
 */
function gather(m: SortedModel, g: Gathered, oneCell: boolean): Gathered {
  const { bucket, labels } = m;
  const n = bucket.length;
  if (m.probabilities) fillRecalibrationColumns(m.scores, oneCell ? null : bucket, n, g);
  if (oneCell) return { ...g, labels };
  for (let k = 0; k < n; k++) g.labels[k] = labels[bucket[k]!]!;
  return g;
}

/**
 * One slice group's cells (slices over the same attributes, so disjoint cells of one bucketing): the cell
 * code of every row and, per slice of the group, its cell. Plain data, so another thread can measure a model
 * on it.
 */
export interface GroupCells {
  cells: number;
  cellOfRow: Codes;
  /** The cell of each slice of the group, in report order. */
  sliceCells: number[];
}

/** What measuring one model needs: plain data (typed arrays and numbers), the same for either model. */
export interface ModelWork {
  labels: Uint8Array;
  scores: Float64Array;
  threshold: number;
  bins: number;
  groups: GroupCells[];
  /** 0, 1, 2, …: the members of a gathered slice (read-only, shared by both models). */
  iota: Uint32Array;
}

/** One model sorted, with its scratch: the state that measures it group by group. */
export interface ModelMeasurer {
  work: ModelWork;
  model: SortedModel;
  scratch: Gathered;
}

/** One model on one slice group: its raw measures per slice and where its slices lie in its bucket. */
export interface ModelGroupResult {
  raws: ModelRaw[];
  from: number[];
  to: number[];
}

/**
 * Sorts one model's scores (the longest single step) and allocates its scratch, or shares `scratch` with a
 * model measured on the same thread (its groups are measured one after the other).
 */
export function startModel(work: ModelWork, scratch?: ModelMeasurer['scratch']): ModelMeasurer {
  const model = sortedModel(work.scores, work.labels, work.threshold);
  return { work, model, scratch: scratch ?? gatheredScratch(work.labels.length, work.iota) };
}

/**
 * For each position of model `b` (in `b`'s score order), the position of the same row in model `a`'s order:
 * lets `b` write its DeLong placements where the paired test reads `a`'s.
 */
export function positionsIn(aOrder: Uint32Array, bOrder: Uint32Array): Uint32Array {
  const n = aOrder.length;
  const at = new Uint32Array(n);
  for (let k = 0; k < n; k++) at[aOrder[k]!] = k;
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = at[bOrder[k]!]!;
  return out;
}

/**
 * Measures one model on every slice of group `g`: sums, placements (written into `m.model.placement`, at
 * `placementAt[position]` when given, else at the position) and recalibration fits. Slices must see the
 * same `positives` as the other model's: they are the same rows, so the label sums agree.
 */
export function measureModelGroup(m: ModelMeasurer, g: number, placementAt: Uint32Array | null): ModelGroupResult {
  const { model, scratch, work } = m;
  const { cells, cellOfRow, sliceCells } = work.groups[g]!;
  const n = work.labels.length;
  let byPosition: Codes;
  if (cells <= 0x100) byPosition = new Uint8Array(n);
  else byPosition = scratch.wideCells ??= new Uint32Array(n);
  const start = bucketByCell(model, cellOfRow, cells, byPosition);
  const from = sliceCells.map((c) => start[c]!);
  const to = sliceCells.map((c) => start[c + 1]!);
  const gathered = gather(model, scratch, cells === 1);
  const raws = sliceCells.map((_, d): ModelRaw => {
    const len = to[d]! - from[d]!;
    const labels = gathered.labels.subarray(from[d], to[d]);
    let positives = 0;
    for (let k = 0; k < len; k++) positives += labels[k]!;
    const seg = model.bucket.subarray(from[d], to[d]);
    const summary = summarizeSorted(
      seg,
      len,
      positives,
      model.scores,
      model.labels,
      model.threshold,
      model.placement,
      work.bins,
      placementAt,
    );
    const recal: RecalibrationColumns = {
      logits: gathered.logits.subarray(from[d], to[d]),
      oddsAgainst: gathered.oddsAgainst.subarray(from[d], to[d]),
    };
    return {
      summary,
      recalibration: model.probabilities ? fitRecalibration(recal, labels, gathered.iota, len, positives) : null,
    };
  });
  return { raws, from, to };
}

/**
 * The paired DeLong test on every slice of a group, from both models' results on it; `incumbentPlacement`
 * holds the incumbent's placements at the candidate's positions of the same rows.
 */
export function pairGroup(
  plan: EvaluationPlan,
  g: number,
  candidate: ModelMeasurer,
  c: ModelGroupResult,
  i: ModelGroupResult,
  incumbentPlacement: Float64Array,
): SliceRaw[] {
  const m = candidate.model;
  return plan.groups[g]!.defs.map((def, d): SliceRaw => {
    const rc = c.raws[d]!;
    const ri = i.raws[d]!;
    let paired = null;
    if (rc.summary.auc !== null && ri.summary.auc !== null) {
      paired = pairedFromPlacements(
        m.bucket.subarray(c.from[d], c.to[d]),
        c.to[d]! - c.from[d]!,
        m.labels,
        m.placement,
        incumbentPlacement,
        rc.summary.auc,
        ri.summary.auc,
        plan.level,
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

/** A checked evaluation input and its slice groups: what the per-model stages and the judging share. */
export interface EvaluationPlan {
  policy: AcceptancePolicy;
  n: number;
  encoded: Map<string, EncodedAttribute>;
  thresholds: { candidate: ThresholdReport; incumbent: ThresholdReport };
  level: number;
  groups: { defs: SliceDefinition[]; cells: GroupCells }[];
  candidate: ModelWork;
  incumbent: ModelWork;
}

/** Validates the input, encodes the attributes, chooses the thresholds and lays out the slice groups. */
export function planEvaluation(input: EvaluationInput): EvaluationPlan {
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
  const groups = collectSlices(policy, encoded).map((defs) => {
    const attrs = defs[0]!.attributes.map((a) => encoded.get(a)!);
    const cells = attrs.reduce((p, a) => p * Math.max(1, a.levels.length), 1);
    const sliceCells = defs.map((def) =>
      def.levelCodes.reduce((acc, l, k) => acc * Math.max(1, attrs[k]!.levels.length) + l, 0),
    );
    return { defs, cells: { cells, cellOfRow: cellCodes(attrs, n, cells), sliceCells } };
  });
  const cells = groups.map((g) => g.cells);
  const bins = policy.calibrationBins;
  const iota = iotaOf(n);
  return {
    policy,
    n,
    encoded,
    thresholds,
    level: policy.confidenceLevel,
    groups,
    candidate: { labels, scores: candidate, threshold: thresholds.candidate.threshold, bins, groups: cells, iota },
    incumbent: { labels, scores: incumbent, threshold: thresholds.incumbent.threshold, bins, groups: cells, iota },
  };
}

/** Judges every criterion on the measured slices (in group order) and assembles the report. */
export function finishEvaluation(plan: EvaluationPlan, raws: SliceRaw[]): AcceptanceReport {
  const { policy, encoded, level } = plan;
  const method = policy.proportionInterval;
  const byId = new Map(raws.map((r) => [r.def.id, r]));
  const criteria = policy.criteria.map((c, i) =>
    judge(c, `criterion-${i + 1}`, criterionSliceIds(c, encoded), byId, policy),
  );
  return {
    accepted: criteria.every((c) => c.passed),
    n: plan.n,
    thresholds: plan.thresholds,
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

/**
 * The pure evaluator: every metric with its interval on every slice the policy names, then each criterion.
 * The stages it runs (`planEvaluation`, `startModel`, `measureModelGroup`, `pairGroup`, `finishEvaluation`)
 * are exported so a caller may run the two models on two threads; the result is the same report.
 */
export function evaluateAcceptance(input: EvaluationInput): AcceptanceReport {
  const plan = planEvaluation(input);
  const candidate = startModel(plan.candidate);
  // one scratch serves both models in turn on one thread
  const incumbent = startModel(plan.incumbent, candidate.scratch);
  const toCandidate = positionsIn(candidate.model.order, incumbent.model.order);
  const raws: SliceRaw[] = [];
  plan.groups.forEach((_, g) => {
    const c = measureModelGroup(candidate, g, null);
    const i = measureModelGroup(incumbent, g, toCandidate);
    raws.push(...pairGroup(plan, g, candidate, c, i, incumbent.model.placement));
  });
  return finishEvaluation(plan, raws);
}
