/**
 * Leakage checks between a training split and an evaluation split. Pure functions over hashed patient
 * ids, row digests and feature columns; each returns findings with a plain-language reason, and any
 * finding fails the gate (see leakageVerdict). Raw patient ids never enter or leave this module.
 */
import crypto from 'node:crypto';
import { rocAuc } from '../stats/auc';

export type LeakageCheck = 'patient-overlap' | 'duplicate-rows' | 'single-feature';

export interface LeakageFinding {
  check: LeakageCheck;
  reason: string;
  /** How many ids/rows are affected (patient-overlap, duplicate-rows). */
  count?: number;
  /** A few hashed ids or row digests, never raw values. */
  examples?: string[];
  feature?: string;
  auc?: number;
}

export class LeakageInputError extends Error {
  override readonly name = 'LeakageInputError';
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const EXAMPLES = 3;

/** Keyed hash of a patient id (HMAC-SHA256, hex). Both splits must be hashed with the same key. */
export function hashPatientId(id: string, key: Uint8Array | string): string {
  if (id === '') throw new LeakageInputError('empty patient id');
  return crypto.createHmac('sha256', key).update(id, 'utf8').digest('hex');
}

/**
 * Patients present in both splits. Inputs must already be hashed (64 hex characters) so a report can
 * quote examples without exposing who the patients are.
 */
export function patientOverlap(training: Iterable<string>, evaluation: Iterable<string>): LeakageFinding[] {
  const train = hashedSet(training, 'training');
  const seen = new Set<string>();
  const examples: string[] = [];
  for (const h of hashedSet(evaluation, 'evaluation')) {
    if (!train.has(h) || seen.has(h)) continue;
    seen.add(h);
    if (examples.length < EXAMPLES) examples.push(h);
  }
  if (seen.size === 0) return [];
  return [
    {
      check: 'patient-overlap',
      count: seen.size,
      examples,
      reason: `${seen.size} patient(s) appear in both the training and the evaluation data; a model evaluated on patients it was trained on looks better than it is. Split by patient.`,
    },
  ];
}

function hashedSet(ids: Iterable<string>, split: string): Set<string> {
  const out = new Set<string>();
  for (const id of ids) {
    if (!SHA256_HEX.test(id))
      throw new LeakageInputError(
        `${split} patient ids must be hashed (64 lowercase hex characters); hash them with hashPatientId before the check`,
      );
    out.add(id);
  }
  return out;
}

/**
 * Digest of one row's feature values (float32 bytes, little-endian, in the given column order). Ids and
 * labels are left out on purpose: a copied example carries a new case id but the same measurements.
 */
export function featureRowDigests(features: Float32Array, rows: number, cols: number): string[] {
  if (features.length !== rows * cols)
    throw new LeakageInputError(`feature matrix has ${features.length} values, expected ${rows} × ${cols}`);
  const bytes = new Uint8Array(cols * 4);
  const view = new DataView(bytes.buffer);
  const out = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = features[r * cols + c]!;
      view.setFloat32(c * 4, v === 0 ? 0 : v, true); // -0 and 0 are the same measurement
    }
    out[r] = crypto.createHash('sha256').update(bytes).digest('hex');
  }
  return out;
}

/** Evaluation rows whose feature digest also occurs in training. */
export function duplicateRows(
  trainingDigests: Iterable<string>,
  evaluationDigests: readonly string[],
): LeakageFinding[] {
  const train = new Set(trainingDigests);
  let count = 0;
  const examples: string[] = [];
  for (const d of evaluationDigests) {
    if (!train.has(d)) continue;
    count++;
    if (examples.length < EXAMPLES && !examples.includes(d)) examples.push(d);
  }
  if (count === 0) return [];
  return [
    {
      check: 'duplicate-rows',
      count,
      examples,
      reason: `${count} evaluation row(s) have exactly the same feature values as a training row; the model may have memorised them. Remove duplicates across splits.`,
    },
  ];
}

export interface SingleFeatureOptions {
  /** A feature whose AUC alone is ≥ this (or ≤ 1 − this) nearly determines the label. Default 0.99. */
  aucLimit?: number;
}

/**
 * Features that on their own nearly determine the label — typically a post-outcome field (a treatment
 * given because of the outcome) or the label itself under another name.
 */
export function singleFeatureLeakage(
  featureNames: readonly string[],
  features: Float32Array,
  labels: ArrayLike<number>,
  options: SingleFeatureOptions = {},
): LeakageFinding[] {
  const limit = options.aucLimit ?? 0.99;
  if (!(limit > 0.5 && limit <= 1)) throw new RangeError(`aucLimit must be in (0.5, 1], got ${limit}`);
  const cols = featureNames.length;
  const rows = labels.length;
  if (features.length !== rows * cols)
    throw new LeakageInputError(
      `feature matrix has ${features.length} values, expected ${rows} rows × ${cols} features`,
    );
  const findings: LeakageFinding[] = [];
  const column = new Float64Array(rows);
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) column[r] = features[r * cols + c]!;
    const auc = rocAuc(column, labels);
    if (auc === null) continue; // one class only: nothing to separate (the evaluation itself refuses such data)
    const separates = auc === 1 || auc === 0;
    if (auc < limit && auc > 1 - limit) continue;
    const name = featureNames[c]!;
    const direction = auc >= 0.5 ? 'higher' : 'lower';
    findings.push({
      check: 'single-feature',
      feature: name,
      auc,
      reason: separates
        ? `feature "${name}" alone perfectly separates the classes (every positive has a ${direction} value than every negative); it probably encodes the outcome.`
        : `feature "${name}" alone has AUC ${auc.toFixed(4)} (limit ${limit}); a single input this predictive usually encodes the outcome.`,
    });
  }
  return findings;
}

export interface LeakageVerdict {
  verdict: 'pass' | 'fail';
  checks: LeakageCheck[];
  findings: LeakageFinding[];
  summary: string;
}

/** Any finding fails: a leak is not something to weigh against good metrics. */
export function leakageVerdict(checks: readonly LeakageCheck[], findings: readonly LeakageFinding[]): LeakageVerdict {
  if (checks.length === 0) throw new RangeError('no leakage check ran; an empty verdict would be a silent pass');
  const failed = findings.length > 0;
  return {
    verdict: failed ? 'fail' : 'pass',
    checks: [...checks],
    findings: [...findings],
    summary: failed
      ? `leakage detected: ${findings.map((f) => f.check + (f.feature ? ` (${f.feature})` : f.count !== undefined ? ` (${f.count})` : '')).join(', ')}`
      : `no leakage found by ${checks.length} check(s): ${checks.join(', ')}`,
  };
}
