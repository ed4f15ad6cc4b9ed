import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { StageOutput } from '../contracts/live-source';
import type { EvidencePort } from '../contracts/ports';
import type { LockedTable } from '../data';
import {
  ErrorType,
  evaluationSplit,
  type CriterionOutcome,
  type DatasetRef,
  type LeakagePolicy,
  type EvidenceRef,
  type OfflineMeasurement,
  type ReleaseRequest,
} from '../domain';
import { evaluateAcceptance, type AcceptanceReport, type ThresholdRule } from '../evaluation';
import { requestPolicyDigest } from '../evidence';
import { checkLeakage, leakageColumns, type LeakageResult } from '../leakage';
import { scorePair, type Scorer } from '../models';
import { modelCurves, renderEvaluationReportHtml } from '../report';
import { armStats, rocAuc } from '../stats';
import { asArtifactFailure, closeAll, openScorers } from './artifacts';
import { readDataset } from './dataset';
import { EvaluationThreads, PARALLEL_MIN_ROWS } from './evaluation-threads';
import type { ActivityDeps } from './deps';

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

/** The full evaluation report (JSON) and its readable HTML form, as evidence. */
async function recordOfflineReport(
  evidence: EvidencePort,
  c: {
    input: { releaseId: string; at: string };
    request: ReleaseRequest;
    policySha256: string;
    measurement: OfflineMeasurement;
    scorers: { candidate: Scorer; incumbent: Scorer };
    report: AcceptanceReport;
    scores: { candidate: Float64Array; incumbent: Float64Array };
    labels: LockedTable['labels'];
    tables: ReturnType<typeof tableSummary>[];
    leakage: LeakageResult;
  },
): Promise<[EvidenceRef, EvidenceRef]> {
  const { input, request, policySha256, measurement, report, scores, labels, leakage } = c;
  const evaluationRef = evaluationSplit(request);
  const { operatingPoint } = request.policy;
  const [candidate, incumbent] = [c.scorers.candidate, c.scorers.incumbent];
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
      tables: c.tables,
      operatingPoint: { policy: operatingPoint, ...report.thresholds },
      leakage: {
        verdict: leakage.verdict,
        summary: leakage.summary,
        checks: leakage.checks,
        notRun: leakage.notRun,
        findings: leakage.details,
        notes: leakage.notes,
      },
      report,
    }),
  ]);
  return [reportRef, htmlRef];
}

/** Leakage of the evaluation split against every training split (read here) and the tuning split, if any. */
async function leakageAgainst(
  evidence: EvidencePort,
  evaluation: { ref: DatasetRef; table: LockedTable },
  trainingRefs: DatasetRef[],
  tuning: { ref: DatasetRef; table: LockedTable } | null,
  policy: LeakagePolicy = {},
) {
  const trainings = [];
  for (const ref of trainingRefs) {
    const features = evaluation.table.featureNames;
    const slices = leakageColumns(policy);
    trainings.push({ ref, table: (await readDataset(evidence, ref, { slices, features })).table });
  }
  try {
    return { trainings, leakage: checkLeakage(evaluation, [...trainings, ...(tuning ? [tuning] : [])], policy) };
  } catch (e) {
    throw asArtifactFailure('leakage checks', e);
  }
}

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
      const policySha256 = requestPolicyDigest(request);
      if (policySha256 !== input.policySha256) {
        throw ApplicationFailure.nonRetryable(
          `acceptance policy digest ${policySha256} differs from ${input.policySha256} pinned at SNAPSHOT; refusing to evaluate`,
          ErrorType.DigestMismatch,
        );
      }
      const { offline, operatingPoint } = request.policy;
      const evaluationRef = evaluationSplit(request);
      const tuningRef =
        operatingPoint.kind === 'fixed' ? null : (request.datasets.find((d) => d.role === 'tuning') ?? null);
      const trainingRefs = request.datasets.filter((d) => d.role === 'training');

      const scorers = await openScorers(evidence, [request.candidate, request.incumbent]);
      let threads: EvaluationThreads | null = null;
      try {
        const [candidate, incumbent] = scorers as [Scorer, Scorer];
        const features = [...new Set([...candidate.features, ...incumbent.features])];
        heartbeat('models loaded');

        const slices = [...new Set([...offline.attributes, ...leakageColumns(offline.leakage)])];
        const evaluation = (await readDataset(evidence, evaluationRef, { slices, features })).table;
        const tuning = tuningRef
          ? (await readDataset(evidence, tuningRef, { slices: leakageColumns(offline.leakage), features })).table
          : null;
        heartbeat('tables read');
        // a large table's incumbent is evaluated on a second thread, which starts while the models score
        if (evaluation.rows >= PARALLEL_MIN_ROWS) threads = new EvaluationThreads();
        const scores = await scoreTable(candidate, incumbent, evaluation, evaluationRef);
        const tuningScores = tuning ? await scoreTable(candidate, incumbent, tuning, tuningRef!) : null;
        heartbeat('scored');

        const { trainings, leakage } = await leakageAgainst(
          evidence,
          { ref: evaluationRef, table: evaluation },
          [...trainingRefs],
          tuning ? { ref: tuningRef!, table: tuning } : null,
          offline.leakage,
        );
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
          const evaluationInput = {
            labels: evaluation.labels,
            candidateScores: scores.candidate,
            incumbentScores: scores.incumbent,
            attributes: evaluation.slices,
            thresholdRule,
            policy: offline.acceptance,
          };
          report = threads ? await threads.evaluate(evaluationInput) : evaluateAcceptance(evaluationInput);
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
        const [reportRef, htmlRef] = await recordOfflineReport(evidence, {
          input,
          request,
          policySha256,
          measurement,
          scorers: { candidate, incumbent },
          report,
          scores,
          labels,
          tables: [
            tableSummary(evaluationRef, evaluation),
            ...(tuning ? [tableSummary(tuningRef!, tuning)] : []),
            ...trainings.map((t) => tableSummary(t.ref, t.table)),
          ],
          leakage,
        });
        return { measurement, artifacts: [reportRef, htmlRef] };
      } finally {
        await threads?.close();
        await closeAll(scorers);
      }
    },
  };
}
