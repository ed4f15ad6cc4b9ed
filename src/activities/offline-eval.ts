import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CriterionOutcome, OfflineMeasurement, ReleaseRequest } from '../domain';
import { ErrorType } from '../domain';
import { evaluateAcceptance, type AcceptanceReport } from '../evaluation';
import { canonicalBytes, sha256Hex } from '../evidence';
import { modelCurves, renderEvaluationReportHtml } from '../report';
import { armStats, rocAuc, StatsInputError } from '../stats';
import { loadModel, scorerFor } from './artifacts';
import { parseLabelledCsv } from './dataset';
import type { ActivityDeps } from './deps';
import type { StageOutput } from './snapshot';

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

export function offlineEvalActivities({ evidence }: Pick<ActivityDeps, 'evidence'>) {
  return {
    /**
     * Candidate and incumbent scored on exactly the same locked rows with the same preprocessing;
     * every pre-registered criterion evaluated per slice with intervals. The full report is evidence;
     * the history gets each criterion's verdict and the headline numbers.
     */
    async evaluateOffline(input: { releaseId: string; request: ReleaseRequest; at: string }): Promise<StageOutput<OfflineMeasurement>> {
      const { request } = input;
      const { offline, operatingThreshold: threshold } = request.policy;
      const dataset = request.datasets.find((d) => d.role === 'evaluation')!;
      const [bytes, candidate, incumbent] = await Promise.all([
        evidence.getBytes(dataset.artifact.key, dataset.artifact.sha256),
        loadModel(evidence, request.candidate),
        loadModel(evidence, request.incumbent),
      ]);
      heartbeat();
      const features = [...new Set([...candidate.features, ...incumbent.features])];
      const table = parseLabelledCsv(bytes, dataset.name, { attributes: offline.attributes, features });
      const c = Float64Array.from(table.features, scorerFor(candidate, table.columns));
      const i = Float64Array.from(table.features, scorerFor(incumbent, table.columns));
      let report: AcceptanceReport;
      try {
        report = evaluateAcceptance({
          labels: table.labels,
          candidateScores: c,
          incumbentScores: i,
          attributes: table.attributes,
          thresholdRule: { kind: 'fixed', threshold },
          policy: offline.acceptance,
        });
      } catch (e) {
        if (e instanceof StatsInputError) {
          throw ApplicationFailure.nonRetryable(`evaluation of ${dataset.name}: ${e.message}`, ErrorType.InvalidArtifact);
        }
        throw e;
      }
      const measurement: OfflineMeasurement = {
        datasetSha256: dataset.artifact.sha256,
        n: table.labels.length,
        positives: table.labels.reduce((a, b) => a + b, 0),
        candidate: { auc: rocAuc(c, table.labels), atThreshold: armStats(c, table.labels, threshold) },
        incumbent: { auc: rocAuc(i, table.labels), atThreshold: armStats(i, table.labels, threshold) },
        criteria: criterionOutcomes(report),
      };
      const policySha256 = sha256Hex(canonicalBytes(request.policy));
      const subject = {
        dataset: { name: dataset.name, sha256: dataset.artifact.sha256, rows: measurement.n },
        candidate: { version: request.candidate.version, sha256: request.candidate.artifact.sha256 },
        incumbent: { version: request.incumbent.version, sha256: request.incumbent.artifact.sha256 },
        policy: { id: request.policy.id, version: request.policy.version, sha256: policySha256 },
      };
      // The readable form reviewers see: criteria with reasons, ROC/PR/reliability plots, per-slice table.
      const html = renderEvaluationReportHtml({
        ...subject,
        report,
        title: `Offline evaluation: ${request.modelName} ${request.candidate.version} vs ${request.incumbent.version}`,
        curves: { candidate: modelCurves(c, table.labels), incumbent: modelCurves(i, table.labels) },
      });
      const [htmlRef, reportRef] = await Promise.all([
        evidence.putBytes(Buffer.from(html, 'utf8'), 'text/html; charset=utf-8'),
        evidence.putJson({
          kind: 'vigil.offline-eval/v2',
          releaseId: input.releaseId,
          at: input.at,
          ...subject,
          dataset: { ...subject.dataset, positives: measurement.positives },
          policy: { ...subject.policy, registeredAt: request.policy.registeredAt },
          report,
        }),
      ]);
      return { measurement, artifacts: [reportRef, htmlRef] };
    },
  };
}
