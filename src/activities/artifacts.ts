import { ApplicationFailure } from '@temporalio/common';
import { DatasetError } from '../data';
import { ErrorType, type ModelRef } from '../domain';
import { PolicyError } from '../evaluation';
import { LeakageInputError } from '../leakage';
import { loadScorer, ModelFormatError, ScoringError, type Scorer, type ScoringInput } from '../models';
import type { SimCase } from '../contracts/traffic';
import { StatsInputError } from '../stats';
import type { EvidencePort } from '../contracts/ports';

/** Media type (or pseudo file name) that tells loadScorer how to read each declared model format. */
const LOADER_TYPE: Record<ModelRef['format'], string> = {
  'vigil.logistic/v1': 'vigil.logistic/v1',
  onnx: 'application/onnx',
  'vigil.predictions/v1': 'vigil.predictions/v1',
};

/**
 * Errors about the released artifacts themselves (a bad model, table, prediction file or policy/data
 * mismatch): retrying cannot fix them, so they become non-retryable InvalidArtifact failures with the
 * context in front. Anything else (network, bugs) is rethrown untouched.
 */
export function asArtifactFailure(context: string, e: unknown): unknown {
  if (
    e instanceof ModelFormatError ||
    e instanceof DatasetError ||
    e instanceof ScoringError ||
    e instanceof StatsInputError ||
    e instanceof PolicyError ||
    e instanceof LeakageInputError
  ) {
    return ApplicationFailure.nonRetryable(`${context}: ${e.message}`, ErrorType.InvalidArtifact);
  }
  return e;
}

/**
 * Read a pinned model artifact and open it as a scorer; the store re-hashes the bytes, so a swapped
 * object cannot be used, and a prediction file is additionally bound to the same digest. The caller
 * must close() the scorer.
 */
export async function openScorer(evidence: EvidencePort, ref: ModelRef): Promise<Scorer> {
  const bytes = await evidence.getBytes(ref.artifact.key, ref.artifact.sha256);
  try {
    return await loadScorer(bytes, LOADER_TYPE[ref.format], {
      predictionsSha256: ref.artifact.sha256,
      onnx: { features: ref.features, input: ref.input, output: ref.output },
    });
  } catch (e) {
    throw asArtifactFailure(`model ${ref.version} (${ref.format}, ${ref.artifact.key})`, e);
  }
}

/** Open both scorers; if the second fails, the first is closed before the error propagates. */
export async function openScorers(evidence: EvidencePort, refs: readonly ModelRef[]): Promise<Scorer[]> {
  const opened = await Promise.allSettled(refs.map((r) => openScorer(evidence, r)));
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    await closeAll(opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])));
    throw failed.reason;
  }
  return opened.map((o) => (o as PromiseFulfilledResult<Scorer>).value);
}

export async function closeAll(scorers: readonly Scorer[]): Promise<void> {
  await Promise.allSettled(scorers.map((s) => s.close()));
}

/**
 * Simulated live cases as the same float32 row-major input the offline evaluation scores. `view` picks the
 * features one model's pipeline delivers: the candidate's may differ (a simulated fault).
 */
export function casesAsInput(
  columns: readonly string[],
  cases: readonly SimCase[],
  view: 'candidate' | 'production' = 'production',
): ScoringInput {
  const F = columns.length;
  const features = new Float32Array(cases.length * F);
  cases.forEach((c, r) => features.set(view === 'candidate' ? (c.candidateFeatures ?? c.features) : c.features, r * F));
  return { featureNames: columns, features, rows: cases.length, caseIds: cases.map((c) => c.caseId) };
}

/** Score live cases with a pinned model; an unusable score is a non-retryable failure naming the row. */
export async function scoreCases(
  scorer: Scorer,
  ref: ModelRef,
  columns: readonly string[],
  cases: readonly SimCase[],
  view: 'candidate' | 'production' = 'production',
): Promise<Float64Array> {
  if (ref.format === 'vigil.predictions/v1') {
    throw ApplicationFailure.nonRetryable(
      `model ${ref.version}: a prediction file scores only the locked evaluation rows; live stages need an executable model (vigil.logistic/v1 or onnx)`,
      ErrorType.InvalidArtifact,
    );
  }
  try {
    return await scorer.score(casesAsInput(columns, cases, view));
  } catch (e) {
    throw asArtifactFailure(`model ${ref.version} on live cases`, e);
  }
}
