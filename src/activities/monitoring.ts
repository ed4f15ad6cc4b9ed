/**
 * Post-release drift surveillance (policy `monitoring.drift`): per monitoring window, the window's inputs against
 * the locked validation reference (the release's evaluation split), performance on the labelled cases of the last
 * few windows, and the alert burden — aggregates and an evidence ref only, never case-level data in history. Plus
 * the two actions drift can take besides a rollback: a "revalidation required" notice and a new release cycle
 * queued through the model's durable release queue.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TemporalReleaseQueue } from '../api/webhooks/temporal-queue';
import { readTable, type LockedTable } from '../data';
import {
  ErrorType,
  QueuedReleaseSchema,
  ReleaseRequestSchema,
  releaseIdFor,
  releaseQueueWorkflowId,
  type ArmStats,
  type DatasetRef,
  type DriftMeasurement,
  type DriftPolicy,
  type EvidenceRef,
  type FeatureDrift,
  type PerformanceCounts,
  type ReleaseRequest,
} from '../domain';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json';
import type { Scorer } from '../models';
import { observedLabels } from '../sim/scenario';
import { binCounts, categoricalDrift, ks2Sample, psi, quantileEdges } from '../stats/drift';
import { asArtifactFailure, closeAll, openScorers, scoreCases } from './artifacts';
import { defaultSchema, tableHeader } from './dataset';
import type { ActivityDeps } from './deps';
import { countCases, driftMeasurement, type Reference } from './drift-measurement';
import { monitoringSiteDrift } from './drift-reference';
import { observeDriftFromTelemetry } from './drift-telemetry';
import type { StageOutput } from './snapshot';

export interface ObserveDriftInput {
  releaseId: string;
  request: ReleaseRequest;
  /** 0-based monitoring interval: the same window (and traffic) observeLive measured. */
  step: number;
  cases: number;
  /** The validated operating point from OFFLINE_EVAL. */
  baseline: ArmStats;
  /** Labelled counts of the previous windows to pool with this one (at most windowsForPerformance − 1), oldest first. */
  recent: PerformanceCounts[];
  at: string;
}

export interface RevalidationNoticeInput {
  releaseId: string;
  modelName: string;
  candidateVersion: string;
  /** 0-based monitoring interval in which drift was detected. */
  interval: number;
  onDrift: DriftPolicy['onDrift'];
  /** The drift verdict's reasons. */
  reasons: string[];
  /** The window's `vigil.monitoring-drift/v1` record. */
  drift: EvidenceRef;
  at: string;
}

export interface RequestRevalidationInput {
  releaseId: string;
  request: ReleaseRequest;
  /** The new release's attempt: the workflow asks for request.attempt + 1. */
  attempt: number;
  interval: number;
  reasons: string[];
  drift: EvidenceRef;
  at: string;
}

export interface RequestRevalidationResult {
  /** The queued release (same candidate, attempt + 1). */
  releaseId: string;
  attempt: number;
  /** The `vigil.revalidation-request/v1` record. */
  record: EvidenceRef;
}

const TABLE_TYPE: Record<DatasetRef['format'], string> = { csv: 'text/csv', parquet: 'application/vnd.apache.parquet' };
const PSI_BINS = 10;
const REFERENCE_CACHE = 8;

function column(table: LockedTable, k: number): number[] {
  const F = table.featureNames.length;
  const out = new Array<number>(table.rows);
  for (let r = 0; r < table.rows; r++) out[r] = table.features[r * F + k]!;
  return out;
}

/** A window drift could not be measured in: no feature compared, no labels, no alert rate — the judge says inconclusive. */
function unmeasured(input: ObserveDriftInput, why: string): DriftMeasurement {
  const current: PerformanceCounts = { interval: input.step, labelled: 0, positives: 0, truePositives: 0, scoreSum: 0 };
  return {
    window: `monitoring interval ${input.step + 1}`,
    interval: input.step,
    cases: 0,
    reference: { dataset: '', sha256: '', rows: 0 },
    data: { features: [], notCompared: [why] },
    performance: {
      current,
      windows: [input.step],
      labelled: 0,
      positives: 0,
      truePositives: 0,
      sensitivity: null,
      calibrationInTheLarge: null,
      baseline: { sensitivity: input.baseline.sensitivity, calibrationInTheLarge: null },
    },
    workflow: {
      alertRate: null,
      baselineAlertRate: input.baseline.alertRate,
      alertRateRatio: null,
      overrideRate: null,
    },
  };
}

export function driftActivities({
  evidence,
  traffic,
  notifier,
  temporal,
  log,
  live,
  telemetry,
}: Pick<ActivityDeps, 'evidence' | 'traffic' | 'notifier' | 'temporal' | 'log' | 'live' | 'telemetry'>) {
  // The reference is content-addressed (dataset digest × candidate digest): read and scored once per worker process.
  const references = new Map<string, Promise<Reference>>();

  async function readReference(request: ReleaseRequest, candidate: Scorer): Promise<Reference> {
    const dataset = request.datasets.find((d) => d.role === 'evaluation')!;
    const bytes = await evidence.getBytes(dataset.artifact.key, dataset.artifact.sha256);
    let table: LockedTable;
    try {
      let schema = dataset.schema;
      if (!schema) {
        const header = await tableHeader(bytes, dataset.format, dataset.name);
        schema = defaultSchema(
          header,
          { slices: header.includes('site') ? ['site'] : [], features: candidate.features },
          dataset.name,
        );
      }
      table = await readTable(bytes, TABLE_TYPE[dataset.format], schema, dataset.name);
    } catch (e) {
      throw asArtifactFailure(`drift reference (evaluation split ${dataset.name})`, e);
    }
    let scores: Float64Array;
    try {
      scores = await candidate.score({
        featureNames: table.featureNames,
        features: table.features,
        rows: table.rows,
        caseIds: table.caseIds,
      });
    } catch (e) {
      throw asArtifactFailure(`model ${request.candidate.version} on the drift reference`, e);
    }
    const columns = new Map<string, number[]>();
    const edges = new Map<string, number[]>();
    table.featureNames.forEach((f, k) => {
      const values = column(table, k);
      columns.set(f, values);
      if (values.length > 0) edges.set(f, quantileEdges(values, PSI_BINS));
    });
    let positives = 0;
    let risk = 0;
    for (let r = 0; r < table.rows; r++) {
      positives += table.labels[r]!;
      risk += scores[r]!;
    }
    return {
      dataset,
      rows: table.rows,
      columns,
      edges,
      sites: table.slices.site ?? null,
      calibrationInTheLarge: table.rows > 0 ? positives / table.rows - risk / table.rows : null,
    };
  }

  function reference(request: ReleaseRequest, candidate: Scorer): Promise<Reference> {
    const dataset = request.datasets.find((d) => d.role === 'evaluation')!;
    const key = `${dataset.artifact.sha256}:${request.candidate.artifact.sha256}:${request.candidate.format}`;
    let ref = references.get(key);
    if (!ref) {
      ref = readReference(request, candidate);
      ref.catch(() => references.delete(key));
      references.set(key, ref);
      while (references.size > REFERENCE_CACHE) references.delete(references.keys().next().value!);
    }
    return ref;
  }

  return {
    /**
     * One monitoring window against the locked reference. The same window name and interval as observeLive, so it
     * is the very same traffic; inputs as the released model's pipeline delivers them.
     */
    async observeDrift(input: ObserveDriftInput): Promise<StageOutput<DriftMeasurement>> {
      const { request } = input;
      const source = `monitoring:${request.candidate.artifact.sha256}:${input.step}`;
      const t = request.policy.operatingThreshold;
      if (live && telemetry) {
        // The window observeLive measured, from the gateway's telemetry: input sketches, predictions, outcomes, feedback.
        return observeDriftFromTelemetry(telemetry, evidence, input, async () => {
          const [candidate] = (await openScorers(evidence, [request.candidate])) as [Scorer];
          try {
            return await reference(request, candidate);
          } finally {
            await closeAll([candidate]);
          }
        });
      }
      if (live) {
        // observeLive reads the gateway's telemetry here; drawing simulated traffic would judge another population.
        // Nothing measured is an inconclusive drift verdict, never a pass (and never a rollback by itself).
        const measurement = unmeasured(
          input,
          'this worker reads live telemetry but has no telemetry window reader (ActivityDeps.telemetry)',
        );
        const record = await evidence.putJson({
          kind: 'vigil.monitoring-drift/v1',
          releaseId: input.releaseId,
          at: input.at,
          step: input.step,
          measurement,
        });
        return { measurement, artifacts: [record] };
      }
      const [candidate] = (await openScorers(evidence, [request.candidate])) as [Scorer];
      let ref: Reference;
      let scores: Float64Array;
      let drawn: Awaited<ReturnType<typeof traffic.cases>>;
      try {
        ref = await reference(request, candidate);
        heartbeat('reference read');
        drawn = await traffic.cases(source, input.cases, input.step);
        scores = await scoreCases(candidate, request.candidate, drawn.columns, drawn.cases, 'candidate');
      } finally {
        await closeAll([candidate]);
      }
      heartbeat('scored');
      const { columns, cases } = drawn;

      // Data drift: every feature the model reads, as its pipeline delivers it (float32, like scoring).
      const features: FeatureDrift[] = [];
      const notCompared: string[] = [];
      const bins: Array<{ feature: string; edges: number[]; reference: number[]; current: number[] }> = [];
      for (const [f, refValues] of ref.columns) {
        const k = columns.indexOf(f);
        if (k < 0) {
          notCompared.push(`${f}: not in the live traffic`);
          continue;
        }
        const current = cases.map((c) => Math.fround((c.candidateFeatures ?? c.features)[k]!));
        try {
          const p = psi(refValues, current, { edges: ref.edges.get(f)! });
          const ks = ks2Sample(refValues, current);
          features.push({
            feature: f,
            kind: 'numeric',
            psi: p.psi,
            test: 'ks',
            statistic: ks.statistic,
            pValue: ks.pValue,
          });
          bins.push({
            feature: f,
            edges: p.edges,
            reference: binCounts(refValues, p.edges),
            current: binCounts(current, p.edges),
          });
        } catch (e) {
          notCompared.push(`${f}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      let siteMix: ReturnType<typeof monitoringSiteDrift>['siteMix'] | null = null;
      if (!ref.sites) {
        notCompared.push('site: the evaluation split has no site column');
      } else {
        try {
          const d = monitoringSiteDrift(
            categoricalDrift(
              ref.sites,
              cases.map((c) => c.site),
            ),
          );
          features.push(d.feature);
          siteMix = d.siteMix;
        } catch (e) {
          notCompared.push(`site: ${e instanceof Error ? e.message : String(e)}`);
        }
      }

      const measurement = driftMeasurement({
        step: input.step,
        recent: input.recent,
        baseline: input.baseline,
        reference: ref,
        counts: countCases(input.step, scores, observedLabels(cases), t),
        data: { features, notCompared },
        overrideRate: null,
      });
      const record = await evidence.putJson({
        kind: 'vigil.monitoring-drift/v1',
        releaseId: input.releaseId,
        at: input.at,
        trafficWindow: source,
        step: input.step,
        reference: {
          role: ref.dataset.role,
          name: ref.dataset.name,
          key: ref.dataset.artifact.key,
          sha256: ref.dataset.artifact.sha256,
          rows: ref.rows,
        },
        threshold: t,
        // Counts per declared bin and per site: aggregates, enough to redraw every PSI by hand.
        bins,
        siteMix,
        measurement,
      });
      return { measurement, artifacts: [record] };
    },

    /** "Revalidation required": a `vigil.notification/v1` record, then the signed webhook when one is configured. */
    async notifyRevalidation(input: RevalidationNoticeInput): Promise<EvidenceRef> {
      const deliveryId = `${input.releaseId}:revalidation-required:${input.interval}`;
      const next =
        input.onDrift === 'revalidate' ? ' A new release cycle of the same candidate has been requested.' : '';
      const message =
        `Revalidation required: ${input.modelName} ${input.candidateVersion} (release ${input.releaseId}) shows drift in monitoring interval ${input.interval + 1}; it stays in service.${next} ${input.reasons.slice(1).join('; ')}`.trim();
      const record = {
        kind: 'vigil.notification/v1',
        notice: 'revalidation-required',
        releaseId: input.releaseId,
        modelName: input.modelName,
        candidateVersion: input.candidateVersion,
        interval: input.interval,
        onDrift: input.onDrift,
        message,
        reasons: input.reasons,
        drift: { key: input.drift.key, sha256: input.drift.sha256 },
        deliveryId,
        channel: notifier ? 'webhook' : 'evidence-only',
        at: input.at,
      };
      const ref = await evidence.putJson(record);
      if (notifier)
        await notifier.deliver(
          canonicalBytes({ ...record, evidence: { key: ref.key, sha256: ref.sha256 } }),
          deliveryId,
        );
      log.warn(
        {
          releaseId: input.releaseId,
          interval: input.interval,
          onDrift: input.onDrift,
          delivered: notifier !== undefined,
        },
        'revalidation required',
      );
      return ref;
    },

    /**
     * Queue a new release of the same candidate (attempt + 1, same pinned policy and references) behind this one, on
     * the model's durable release queue (signalWithStart, like the webhooks). Idempotent: the queue drops an id it
     * already holds or started, and the record is content-addressed.
     */
    async requestRevalidation(input: RequestRevalidationInput): Promise<RequestRevalidationResult> {
      const signal = temporal?.workflow.signalWithStart;
      if (!temporal || !signal) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client: a revalidation release cannot be queued here',
          ErrorType.NotConfigured,
        );
      }
      const prev = input.request;
      const attempt = input.attempt;
      if (attempt <= prev.attempt) {
        throw ApplicationFailure.nonRetryable(
          `revalidation release refused: attempt ${attempt} is not after this release's ${prev.attempt}`,
          ErrorType.InvalidRequest,
        );
      }
      const parsed = ReleaseRequestSchema.safeParse({
        ...prev,
        attempt,
        trigger: { kind: 'api' },
        reason:
          `revalidation required: drift detected in monitoring interval ${input.interval + 1} of release ${input.releaseId} (${input.drift.key}); ${input.reasons.slice(1).join('; ')}`.slice(
            0,
            2000,
          ),
      });
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          `revalidation release refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          ErrorType.InvalidRequest,
        );
      }
      const request = parsed.data;
      const releaseId = releaseIdFor(request, sha256Hex(canonicalBytes(request.policy)));
      const entry = QueuedReleaseSchema.parse({
        releaseId,
        modelName: request.modelName,
        deliveryKey: `revalidation:${input.releaseId}:${input.interval}`,
        behind: [input.releaseId],
        queuedAt: input.at,
        request,
      });
      const record = await evidence.putJson({
        kind: 'vigil.revalidation-request/v1',
        releaseId: input.releaseId,
        queuedReleaseId: releaseId,
        attempt,
        interval: input.interval,
        queue: releaseQueueWorkflowId(request.modelName),
        reasons: input.reasons,
        drift: { key: input.drift.key, sha256: input.drift.sha256 },
        entry,
        at: input.at,
      });
      await new TemporalReleaseQueue({
        workflow: { signalWithStart: (type, options) => signal.call(temporal.workflow, type, options) },
      }).enqueue(entry);
      log.warn({ releaseId: input.releaseId, queued: releaseId, attempt }, 'revalidation release queued');
      return { releaseId, attempt, record };
    },
  };
}
