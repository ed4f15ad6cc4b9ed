/**
 * Leakage between a release's evaluation split and the splits that informed the model or its operating point, over
 * locked tables, as the policy's `offline.leakage` asks: shared patients (normalised ids through one keyed hash),
 * duplicate and near-duplicate rows beyond chance, label proxies (single features overall and per site, pairs), and
 * the declared validation design (temporal order, site held-out). A check that applies but cannot run fails the gate
 * unless the policy waives it with a reason. Pure: the tables are read by the OFFLINE_EVAL activity.
 */
import type { DatasetRef, LeakageOutcome, LeakagePolicy } from '../domain';
import { hashPatientId, leakageVerdict, patientOverlap, type LeakageCheck, type LeakageFinding } from './checks';
import { DEFAULT_MAX_FEATURE_AUC, labelProxies } from './label-proxy';
import { duplicateFinding, duplicateStats, INDISTINCT_RATE, type DuplicateStats } from './near-duplicates';
import { comparablePatientIds, normalisePatientId } from './patient-ids';
import { siteHeldOut, temporalOrder } from './split-design';

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
  /** Case ids: row identity where the features cannot tell rows apart. */
  caseIds?: readonly string[];
  /** Slice columns by name (site and date columns the policy names). */
  slices?: Readonly<Record<string, readonly string[]>>;
}

export interface LeakageResult extends LeakageOutcome {
  /** Full findings (counts, hashed examples, feature AUCs) for the evidence report. */
  details: (LeakageFinding & { split: string })[];
  /** What each check measured (twin rates, how ids were compared), for the evidence report. */
  notes: string[];
  summary: string;
}

/** The evaluation columns of `table` in the evaluation's order, or null when the table lacks one. */
function alignedFeatures(table: LeakageTable, names: readonly string[]): Float32Array | null {
  const index = names.map((c) => table.featureNames.indexOf(c));
  if (index.some((i) => i < 0)) return null;
  const F = table.featureNames.length;
  const G = names.length;
  const x = new Float32Array(table.rows * G);
  for (let r = 0; r < table.rows; r++) for (let k = 0; k < G; k++) x[r * G + k] = table.features[r * F + index[k]!]!;
  return x;
}

/** Case ids shared by both splits (normalised like patient ids, compared as keyed hashes). */
function sharedCases(a: readonly string[], b: readonly string[], key: string): number {
  const h = (id: string) => hashPatientId(normalisePatientId(id), key);
  const seen = new Set(a.map(h));
  return b.filter((id) => seen.has(h(id))).length;
}

/** What checkLeakage gathers as it goes: checks that ran, checks that could not, findings, notes. */
interface Tally {
  ran: Set<LeakageCheck>;
  cannot: { check: LeakageCheck; reason: string }[];
  details: (LeakageFinding & { split: string })[];
  notes: string[];
}

/**
 * Evaluation rows with a twin in another split, judged against the chance twin rate; where features cannot tell
 * rows apart, shared case ids instead.
 */
function duplicateRows(
  split: string,
  key: string,
  table: LeakageTable,
  ev: LeakageTable,
  relabel: (f: LeakageFinding) => LeakageFinding & { split: string },
  { ran, cannot, details, notes }: Tally,
): void {
  const theirs = alignedFeatures(table, ev.featureNames);
  if (theirs) {
    ran.add('duplicate-rows');
    const cols = ev.featureNames.length;
    const stats: DuplicateStats = duplicateStats(
      { rows: table.rows, cols, values: theirs },
      { rows: ev.rows, cols, values: ev.features },
    );
    notes.push(
      `${split}: ${stats.near} evaluation row(s) with a training twin (${stats.exact} exact); chance twin rate ${(stats.chanceRate * 100).toFixed(2)} % → ${stats.expected.toFixed(1)} expected`,
    );
    details.push(...duplicateFinding(stats, ev.rows).map(relabel));
    // Where features cannot tell rows apart, the same case id in both splits is the duplicate.
    if (stats.chanceRate >= INDISTINCT_RATE && table.caseIds && ev.caseIds) {
      const shared = sharedCases(table.caseIds, ev.caseIds, key);
      notes.push(`${split}: features cannot tell rows apart; ${shared} case id(s) shared`);
      if (shared > 0)
        details.push(
          relabel({
            check: 'duplicate-rows',
            count: shared,
            reason: `${shared} evaluation case id(s) also appear in the training split (compared normalised, as keyed hashes); the same case in both splits is a duplicate row, whatever its features.`,
          }),
        );
    }
  } else {
    cannot.push({
      check: 'duplicate-rows',
      reason: `${split} lacks some of the evaluation features (${ev.featureNames.join(', ')})`,
    });
  }
}

/** Leakage of the evaluation split against every split that informed the model or its operating point. */
export function checkLeakage(
  evaluation: { ref: DatasetRef; table: LeakageTable },
  others: { ref: DatasetRef; table: LeakageTable }[],
  policy: LeakagePolicy = {},
): LeakageResult {
  const ran: Tally['ran'] = new Set();
  const cannot: Tally['cannot'] = [];
  const details: Tally['details'] = [];
  const notes: string[] = [];
  const ev = evaluation.table;
  const column = (t: LeakageTable, name: string) => t.slices?.[name] ?? null;

  if (others.length === 0) {
    for (const check of ['patient-overlap', 'duplicate-rows'] as const)
      cannot.push({ check, reason: 'no training or tuning split is pinned to compare the evaluation split with' });
  }
  for (const { ref, table } of others) {
    const split = `${ref.role} ${ref.name}`;
    const relabel = (f: LeakageFinding): LeakageFinding & { split: string } =>
      ref.role === 'training'
        ? { ...f, split }
        : { ...f, split, reason: `${split} vs evaluation: ${f.reason.replaceAll('training', ref.role)}` };
    const key = `vigil.leakage/v1:${ref.artifact.sha256}:${evaluation.ref.artifact.sha256}`;

    if (table.patientIds && ev.patientIds) {
      const ids = comparablePatientIds(table.patientIds, ev.patientIds, key);
      if (ids.ok) {
        ran.add('patient-overlap');
        notes.push(
          `${split}: patient ids compared ${ids.how === 'normalised' ? 'normalised (case, whitespace, leading zeros) and hashed with one key' : 'as hashed by the site'}`,
        );
        details.push(...patientOverlap(ids.training, ids.evaluation).map(relabel));
      } else cannot.push({ check: 'patient-overlap', reason: `${split}: ${ids.reason}` });
    } else {
      cannot.push({
        check: 'patient-overlap',
        reason: `${split}: ${table.patientIds ? 'the evaluation split' : 'this split'} has no patient_id column, so shared patients cannot be found`,
      });
    }

    duplicateRows(split, key, table, ev, relabel, { ran, cannot, details, notes });

    if (policy.temporal) {
      const [a, b] = [column(table, policy.temporal.dateColumn), column(ev, policy.temporal.dateColumn)];
      if (a && b) {
        ran.add('temporal-order');
        details.push(...temporalOrder(a, b, policy.temporal.dateColumn, ref.role).map((f) => ({ ...f, split })));
      } else
        cannot.push({
          check: 'temporal-order',
          reason: `${split}: date column "${policy.temporal.dateColumn}" is missing from ${a ? 'the evaluation split' : 'this split'}`,
        });
    }
    if (policy.siteHeldOut && policy.siteColumn) {
      const [a, b] = [column(table, policy.siteColumn), column(ev, policy.siteColumn)];
      if (a && b) {
        ran.add('site-held-out');
        details.push(...siteHeldOut(a, b, policy.siteColumn, ref.role).map((f) => ({ ...f, split })));
      } else
        cannot.push({
          check: 'site-held-out',
          reason: `${split}: site column "${policy.siteColumn}" is missing from ${a ? 'the evaluation split' : 'this split'}`,
        });
    }
  }

  const sites = policy.siteColumn ? column(ev, policy.siteColumn) : null;
  if (policy.siteColumn && !sites)
    cannot.push({
      check: 'single-feature',
      reason: `per-site label proxies: site column "${policy.siteColumn}" is missing from the evaluation split`,
    });
  ran.add('single-feature');
  ran.add('feature-pair');
  details.push(
    ...labelProxies(
      { featureNames: ev.featureNames, features: ev.features, labels: ev.labels, sites },
      policy.maxFeatureAuc ?? DEFAULT_MAX_FEATURE_AUC,
    ).map((f) => ({ ...f, split: `evaluation ${evaluation.ref.name}` })),
  );

  // A check that applies but could not run fails the gate, unless the policy waived it with a reason.
  const waived = new Map((policy.waive ?? []).map((w) => [w.check, w.reason]));
  const notRun: { check: string; reason: string }[] = [];
  for (const c of cannot) {
    const why = waived.get(c.check);
    if (why !== undefined) notRun.push({ check: c.check, reason: `${c.reason} (waived by policy: ${why})` });
    else
      details.push({
        check: c.check,
        split: 'evaluation',
        reason: `required check could not run: ${c.reason}. Fix the data, or waive "${c.check}" in offline.leakage.waive with a reason.`,
      });
  }

  const verdict = leakageVerdict([...ran], details);
  return {
    verdict: verdict.verdict,
    checks: verdict.checks,
    findings: details.map((f) => ({ check: f.check, reason: f.reason })),
    notRun,
    details,
    notes,
    summary: verdict.summary,
  };
}

/** Slice columns the leakage checks read (site and date columns), so the activity reads them with the tables. */
export function leakageColumns(policy: LeakagePolicy = {}): string[] {
  return [...new Set([policy.siteColumn, policy.temporal?.dateColumn].filter((c): c is string => !!c))];
}
