/**
 * A stage that cannot proceed: an activity failed with a typed, non-retryable ApplicationFailure (a model that
 * cannot score the traffic, a missing feature, an artifact gone). Retrying cannot fix it, so the release ends
 * with an explicit outcome and a chain entry naming the cause instead of a failed workflow
 * (`patched('stage-failure-outcome')`, ./release-lifecycle.ts).
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';

/** Patch id of the behaviour: runs started before it failed the workflow instead. */
export const STAGE_FAILURE_PATCH = 'stage-failure-outcome';

/**
 * The cause a person can act on (`<type>: <message>`) when `err` is an activity's typed, non-retryable failure;
 * null for anything else (cancellation, timeouts, bugs), which still propagates.
 */
export function cannotProceed(err: unknown): string | null {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return null;
  const cause = err.cause;
  const type = cause.type ?? null;
  const typed = type !== null && (cause.nonRetryable || (NON_RETRYABLE_ERROR_TYPES as string[]).includes(type));
  if (!typed) return null;
  return `${type}: ${cause.message}`;
}
