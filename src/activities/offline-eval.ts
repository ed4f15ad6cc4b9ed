import { heartbeat } from '@temporalio/activity';
import type { OfflineMeasurement, ReleaseRequest } from '../domain';
import { armStats, rocAuc } from '../stats';
import { loadModel, scorerFor } from './artifacts';
import { parseLabelledCsv } from './dataset';
import type { ActivityDeps } from './deps';
import type { StageOutput } from './snapshot';

export function offlineEvalActivities({ evidence }: Pick<ActivityDeps, 'evidence'>) {
  return {
    /** Candidate and incumbent scored on exactly the same locked rows, with the same preprocessing. */
    async evaluateOffline(input: { releaseId: string; request: ReleaseRequest; at: string }): Promise<StageOutput<OfflineMeasurement>> {
      const { request } = input;
      const dataset = request.datasets.find((d) => d.role === 'evaluation')!;
      const [bytes, candidate, incumbent] = await Promise.all([
        evidence.getBytes(dataset.artifact.key, dataset.artifact.sha256),
        loadModel(evidence, request.candidate),
        loadModel(evidence, request.incumbent),
      ]);
      heartbeat();
      const table = parseLabelledCsv(bytes, dataset.name);
      const threshold = request.policy.operatingThreshold;
      const evaluate = (scoreRow: (f: ArrayLike<number>) => number) => {
        const scores = Float64Array.from(table.features, scoreRow);
        return { auc: rocAuc(scores, table.labels), atThreshold: armStats(scores, table.labels, threshold) };
      };
      const c = evaluate(scorerFor(candidate, table.columns));
      const i = evaluate(scorerFor(incumbent, table.columns));
      const measurement: OfflineMeasurement = {
        datasetSha256: dataset.artifact.sha256,
        n: table.labels.length,
        positives: c.atThreshold.positives,
        candidate: c,
        incumbent: i,
      };
      const report = await evidence.putJson({
        kind: 'vigil.offline-eval/v1',
        releaseId: input.releaseId,
        at: input.at,
        dataset: { name: dataset.name, sha256: dataset.artifact.sha256, rows: measurement.n, positives: measurement.positives },
        threshold,
        method: { auc: 'Mann-Whitney U / (n1 n0), ties counted 1/2', threshold: 'alert when score >= threshold' },
        candidate: { version: request.candidate.version, sha256: request.candidate.artifact.sha256, ...c },
        incumbent: { version: request.incumbent.version, sha256: request.incumbent.artifact.sha256, ...i },
      });
      return { measurement, artifacts: [report] };
    },
  };
}
