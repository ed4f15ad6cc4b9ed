import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { LockedTable } from '../data';
import {
  ErrorType,
  type CriterionOutcome,
  type DatasetRef,
  type LeakageOutcome,
  type OfflineMeasurement,
  type ReleaseRequest,
} from '../domain';
import { evaluateAcceptance, type AcceptanceReport, type ThresholdRule } from '../evaluation';
import { canonicalBytes, sha256Hex } from '../evidence';
import {
  duplicateRows,
  featureRowDigests,
  hashPatientId,
  leakageVerdict,
  patientOverlap,
  singleFeatureLeakage,
  type LeakageCheck,
  type LeakageFinding,
} from '../leakage';
import { scorePair, type Scorer } from '../models';
import { modelCurves, renderEvaluationReportHtml } from '../report';
import { armStats, rocAuc } from '../stats';
import { asArtifactFailure, closeAll, openScorers } from './artifacts';
import { readDataset } from './dataset';
import type { ActivityDeps } from './deps';
import type { StageOutput } from '../contracts/live-source';

/** What the history carries of a criterion: its verdict, reason and failing slices — not the numbers. */
export function criterionOutcomes(report: AcceptanceReport): CriterionOutcome[] {
  return report.criteria.map((c) => ({
    id: c.id,
    kind: c.kind,
    metric: c.metric,
    status: c.status,
    reason: c.reason,
    failingSlices: c.slices.filter((s) => s.status !== 'pass').map((s) => s.slice),
  }));
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
function digestsOver(table: LockedTable, columns: readonly string[]): string[] | null {
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
  evaluation: { ref: DatasetRef; table: LockedTable },
  others: { ref: DatasetRef; table: LockedTable }[],
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

/** Both models on the very same locked rows and float32 features. */
async function scoreTable(candidate: Scorer, incumbent: Scorer, table: LockedTable, ref: DatasetRef) {
  try {
    return await scorePair(candidate, incumbent, table);
  } catch (e) {
    throw asArtifactFailure(`scoring the ${ref.role} split ${ref.name}`, e);
  }
}

const tableSummary = (ref: DatasetRef, t: LockedTable) => ({
  role: ref.role,
  name: ref.name,
  format: ref.format,
  sha256: ref.artifact.sha256,
  sourceRows: t.sourceRows,
  rows: t.rows,
  missing: t.missing,
});

export function offlineEvalActivities({ evidence }: Pick<ActivityDeps, 'evidence'>) {
  return {
    /**
     * Candidate and incumbent scored on exactly the same locked rows with the same preprocessing; leakage
     * checked against the training (and tuning) splits; every pre-registered criterion evaluated per slice
     * with intervals at the policy's operating point. The full report is evidence; the history gets each
     * criterion's verdict, the leakage verdict and the headline numbers.
     */
    async evaluateOffline(input: {
      releaseId: string;
      request: ReleaseRequest;
      /** The policy digest pinned at SNAPSHOT: criteria are only ever judged as registered. */
      policySha256: string;
      at: string;
    }): Promise<StageOutput<OfflineMeasurement>> {
      const { request } = input;
      const policySha256 = sha256Hex(canonicalBytes(request.policy));
      if (policySha256 !== input.policySha256) {
        throw ApplicationFailure.nonRetryable(
          `acceptance policy digest ${policySha256} differs from ${input.policySha256} pinned at SNAPSHOT; refusing to evaluate`,
          ErrorType.DigestMismatch,
        );
      }
      const { offline, operatingPoint } = request.policy;
      const evaluationRef = request.datasets.find((d) => d.role === 'evaluation')!;
      const tuningRef =
        operatingPoint.kind === 'fixed' ? null : (request.datasets.find((d) => d.role === 'tuning') ?? null);
      const trainingRefs = request.datasets.filter((d) => d.role === 'training');

      const scorers = await openScorers(evidence, [request.candidate, request.incumbent]);
      try {
        const [candidate, incumbent] = scorers as [Scorer, Scorer];
        const features = [...new Set([...candidate.features, ...incumbent.features])];
        heartbeat('models loaded');

        const evaluation = (await readDataset(evidence, evaluationRef, { slices: offline.attributes, features })).table;
        const tuning = tuningRef ? (await readDataset(evidence, tuningRef, { slices: [], features })).table : null;
        heartbeat('tables read');
        const scores = await scoreTable(candidate, incumbent, evaluation, evaluationRef);
        const tuningScores = tuning ? await scoreTable(candidate, incumbent, tuning, tuningRef!) : null;
        heartbeat('scored');

        const trainings = [];
        for (const ref of trainingRefs) {
          trainings.push({
            ref,
            table: (await readDataset(evidence, ref, { slices: [], features: evaluation.featureNames })).table,
          });
        }
        const leakage = (() => {
          try {
            return checkLeakage({ ref: evaluationRef, table: evaluation }, [
              ...trainings,
              ...(tuning ? [{ ref: tuningRef!, table: tuning }] : []),
            ]);
          } catch (e) {
            throw asArtifactFailure('leakage checks', e);
          }
        })();
        heartbeat('leakage checked');

        const thresholdRule: ThresholdRule =
          operatingPoint.kind === 'fixed'
            ? { kind: 'fixed', threshold: request.policy.operatingThreshold }
            : {
                kind: 'max-specificity-at-sensitivity',
                minSensitivity: operatingPoint.minSensitivity,
                tuning: {
                  labels: tuning!.labels,
                  candidateScores: tuningScores!.candidate,
                  incumbentScores: tuningScores!.incumbent,
                },
              };
        let report: AcceptanceReport;
        try {
          report = evaluateAcceptance({
            labels: evaluation.labels,
            candidateScores: scores.candidate,
            incumbentScores: scores.incumbent,
            attributes: evaluation.slices,
            thresholdRule,
            policy: offline.acceptance,
          });
        } catch (e) {
          throw asArtifactFailure(`evaluation of ${evaluationRef.name}`, e);
        }

        const { labels } = evaluation;
        const ct = report.thresholds.candidate.threshold;
        const it = report.thresholds.incumbent.threshold;
        const measurement: OfflineMeasurement = {
          datasetSha256: evaluationRef.artifact.sha256,
          n: evaluation.rows,
          positives: labels.reduce((a, b) => a + b, 0),
          candidate: { auc: rocAuc(scores.candidate, labels), atThreshold: armStats(scores.candidate, labels, ct) },
          incumbent: { auc: rocAuc(scores.incumbent, labels), atThreshold: armStats(scores.incumbent, labels, it) },
          criteria: criterionOutcomes(report),
          operatingPoint: { rule: report.thresholds.candidate.rule, candidateThreshold: ct, incumbentThreshold: it },
          leakage: {
            verdict: leakage.verdict,
            checks: leakage.checks,
            findings: leakage.findings,
            notRun: leakage.notRun,
          },
        };
        const subject = {
          dataset: { name: evaluationRef.name, sha256: evaluationRef.artifact.sha256, rows: measurement.n },
          candidate: {
            version: request.candidate.version,
            sha256: request.candidate.artifact.sha256,
            format: request.candidate.format,
            scorer: candidate.label,
          },
          incumbent: {
            version: request.incumbent.version,
            sha256: request.incumbent.artifact.sha256,
            format: request.incumbent.format,
            scorer: incumbent.label,
          },
          policy: { id: request.policy.id, version: request.policy.version, sha256: policySha256 },
        };
        // The readable form reviewers see: criteria with reasons, ROC/PR/reliability plots, per-slice table.
        const html = renderEvaluationReportHtml({
          ...subject,
          report,
          title: `Offline evaluation: ${request.modelName} ${request.candidate.version} vs ${request.incumbent.version}`,
          curves: {
            candidate: modelCurves(scores.candidate, labels),
            incumbent: modelCurves(scores.incumbent, labels),
          },
        });
        const [htmlRef, reportRef] = await Promise.all([
          evidence.putBytes(Buffer.from(html, 'utf8'), 'text/html; charset=utf-8'),
          evidence.putJson({
            kind: 'vigil.offline-eval/v3',
            releaseId: input.releaseId,
            at: input.at,
            ...subject,
            dataset: { ...subject.dataset, positives: measurement.positives },
            policy: { ...subject.policy, registeredAt: request.policy.registeredAt },
            tables: [
              tableSummary(evaluationRef, evaluation),
              ...(tuning ? [tableSummary(tuningRef!, tuning)] : []),
              ...trainings.map((t) => tableSummary(t.ref, t.table)),
            ],
            operatingPoint: { policy: operatingPoint, ...report.thresholds },
            leakage: {
              verdict: leakage.verdict,
              summary: leakage.summary,
              checks: leakage.checks,
              notRun: leakage.notRun,
              findings: leakage.details,
            },
            report,
          }),
        ]);
        return { measurement, artifacts: [reportRef, htmlRef] };
      } finally {
        await closeAll(scorers);
      }
    },
  };
}
