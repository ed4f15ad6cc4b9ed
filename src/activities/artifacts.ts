import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, type ModelRef } from '../domain';
import { bindScorer, ModelFormatError, parseModel, type LogisticModel } from '../models/logistic';
import type { EvidencePort } from './deps';

/** Read a pinned artifact; the store re-hashes it, so a swapped object cannot be used. */
export async function loadModel(evidence: EvidencePort, ref: ModelRef): Promise<LogisticModel> {
  const bytes = await evidence.getBytes(ref.artifact.key, ref.artifact.sha256);
  try {
    return parseModel(bytes);
  } catch (e) {
    if (e instanceof ModelFormatError) {
      throw ApplicationFailure.nonRetryable(`model ${ref.version} (${ref.artifact.key}): ${e.message}`, ErrorType.InvalidArtifact);
    }
    throw e;
  }
}

export function scorerFor(model: LogisticModel, columns: readonly string[]): (f: ArrayLike<number>) => number {
  try {
    return bindScorer(model, columns);
  } catch (e) {
    if (e instanceof ModelFormatError) throw ApplicationFailure.nonRetryable(e.message, ErrorType.InvalidArtifact);
    throw e;
  }
}
