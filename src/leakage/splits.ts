/**
 * Leakage between a release's evaluation split and the splits that informed the model or its operating point,
 * over locked tables: shared (hashed) patients, identical feature rows, and a single feature that nearly
 * determines the label. Pure: the tables are read by the OFFLINE_EVAL activity.
 */
import type { DatasetRef, LeakageOutcome } from '../domain';
import {
  duplicateRows,
  featureRowDigests,
  hashPatientId,
  leakageVerdict,
  patientOverlap,
  singleFeatureLeakage,
  type LeakageCheck,
  type LeakageFinding,
} from './checks';

/**
 * The columns of a locked table the checks read. src/data's LockedTable has them; naming only these keeps the
 * checks free of the reader (pure logic does not import adapters, .dependency-cruiser.cjs).
 */
export interface LeakageTable {
  rows: number;
  featureNames: readonly string[];
  /** Row-major [rows, featureNames.length]. */
  features: Float32Array;
  labels: Uint8Array;
  patientIds: readonly string[] | null;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Patient ids as hashes. Ids already hashed by the site (64 hex) are compared as they are; raw ids are
 * hashed with a key derived from the two pinned datasets, so only hashes reach findings and evidence.
 * A split with hashed ids compared to one with raw ids cannot be matched: null.
 */
function comparableIds(a: readonly string[], b: readonly string[], key: string): [string[], string[]] | null {
  const hashed = (ids: readonly string[]) => ids.every((id) => SHA256_HEX.test(id));
  const [ha, hb] = [hashed(a), hashed(b)];
  if (ha && hb) return [[...a], [...b]];
  if (ha !== hb) return null;
  return [a.map((id) => hashPatientId(id, key)), b.map((id) => hashPatientId(id, key))];
}

/** Row digests of `table` over `columns` (by name), or null when the table lacks one of them. */
function digestsOver(table: LeakageTable, columns: readonly string[]): string[] | null {
  const index = columns.map((c) => table.featureNames.indexOf(c));
  if (index.some((i) => i < 0)) return null;
  const F = table.featureNames.length;
  const G = columns.length;
  const x = new Float32Array(table.rows * G);
  for (let r = 0; r < table.rows; r++) for (let k = 0; k < G; k++) x[r * G + k] = table.features[r * F + index[k]!]!;
  return featureRowDigests(x, table.rows, G);
}

export interface LeakageResult extends LeakageOutcome {
  /** Full findings (counts, hashed examples, feature AUCs) for the evidence report. */
  details: (LeakageFinding & { split: string })[];
  summary: string;
}

/**
 * Leakage between the evaluation split and every split that informed the model or its operating point:
 * shared (hashed) patients, identical feature rows, and a single feature that nearly determines the label.
 */
export function checkLeakage(
  evaluation: { ref: DatasetRef; table: LeakageTable },
  others: { ref: DatasetRef; table: LeakageTable }[],
): LeakageResult {
  const ran = new Set<LeakageCheck>();
  const notRun: { check: string; reason: string }[] = [];
  const details: (LeakageFinding & { split: string })[] = [];
  const ev = evaluation.table;
  for (const { ref, table } of others) {
    const split = `${ref.role} ${ref.name}`;
    const relabel = (f: LeakageFinding): LeakageFinding & { split: string } =>
      ref.role === 'training'
        ? { ...f, split }
        : { ...f, split, reason: `${split} vs evaluation: ${f.reason.replaceAll('training', ref.role)}` };

    if (table.patientIds && ev.patientIds) {
      const key = `vigil.leakage/v1:${ref.artifact.sha256}:${evaluation.ref.artifact.sha256}`;
      const ids = comparableIds(table.patientIds, ev.patientIds, key);
      if (ids) {
        ran.add('patient-overlap');
        details.push(...patientOverlap(ids[0], ids[1]).map(relabel));
      } else {
        notRun.push({
          check: 'patient-overlap',
          reason: `${split}: patient ids are hashed in one split and raw in the other; they cannot be compared`,
        });
      }
    } else {
      notRun.push({
        check: 'patient-overlap',
        reason: `${split}: ${table.patientIds ? 'the evaluation split' : 'this split'} has no patient id column`,
      });
    }

    const theirs = digestsOver(table, ev.featureNames);
    if (theirs) {
      ran.add('duplicate-rows');
      details.push(
        ...duplicateRows(theirs, featureRowDigests(ev.features, ev.rows, ev.featureNames.length)).map(relabel),
      );
    } else {
      notRun.push({
        check: 'duplicate-rows',
        reason: `${split} lacks some of the evaluation features (${ev.featureNames.join(', ')})`,
      });
    }
  }
  ran.add('single-feature');
  details.push(
    ...singleFeatureLeakage(ev.featureNames, ev.features, ev.labels).map((f) => ({
      ...f,
      split: `evaluation ${evaluation.ref.name}`,
    })),
  );

  const verdict = leakageVerdict([...ran], details);
  return {
    verdict: verdict.verdict,
    checks: verdict.checks,
    findings: details.map((f) => ({ check: f.check, reason: f.reason })),
    notRun,
    details,
    summary: verdict.summary,
  };
}
