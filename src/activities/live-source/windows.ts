/** The windows the live stages measure, named and timed the same way whatever the live source. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';
import type { ObserveLiveInput, ObserveShadowInput } from '../../contracts/live-source';

/** How a canary look or monitoring window is named in measurements (the same for every source). */
export function windowName(input: Pick<ObserveLiveInput, 'mode' | 'step' | 'percent' | 'extension'>): string {
  const ext = input.extension ?? 0;
  return input.mode === 'canary'
    ? `canary step ${input.step + 1} (${input.percent}%)${ext > 0 ? `, extension ${ext}` : ''}`
    : `monitoring interval ${input.step + 1}`;
}

/** The prediction interval a look measures: the bake that ended at `input.at`. */
export function liveInterval(input: Pick<ObserveLiveInput, 'request' | 'mode' | 'step' | 'at'>): {
  from: string;
  to: string;
  seconds: number;
} {
  const policy = input.request.policy;
  const seconds =
    input.mode === 'canary' ? policy.canary.steps[input.step]?.bakeSeconds : policy.monitoring.intervalSeconds;
  if (seconds === undefined)
    throw new Error(`canary step ${input.step} is not in the policy (it has ${policy.canary.steps.length})`);
  const to = Date.parse(input.at);
  if (!Number.isFinite(to)) throw new Error(`observeLive: "at" is not a timestamp: ${input.at}`);
  return { from: new Date(to - seconds * 1000).toISOString(), to: new Date(to).toISOString(), seconds };
}

/** The prediction window the shadow measures: the policy's duration, ending at `at`. */
export function shadowWindow(input: Pick<ObserveShadowInput, 'request' | 'at'>): {
  from: string;
  to: string;
  seconds: number;
} {
  const to = Date.parse(input.at);
  if (!Number.isFinite(to))
    throw ApplicationFailure.nonRetryable(
      `observeShadow: "at" is not a timestamp: ${input.at}`,
      ErrorType.InvalidRequest,
    );
  const seconds = input.request.policy.shadow.durationSeconds;
  return { from: new Date(to - seconds * 1000).toISOString(), to: new Date(to).toISOString(), seconds };
}

/**
 * Keep heartbeating while `work` runs: reading a window's telemetry waits for the gateways' watermarks and can
 * outlast the heartbeat timeout.
 */
export async function heartbeating<T>(work: Promise<T>, detail: string): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return work; // called outside an activity (tests)
  }
  const timer = setInterval(() => ctx.heartbeat(detail), 5_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/**
 * The running activity's attempt as a measurement field (`{ attempt }`; empty outside an activity): the evidence
 * record and the stage's status say how many attempts the measurement took.
 */
export function attemptField(): { attempt?: number } {
  try {
    return { attempt: Context.current().info.attempt };
  } catch {
    return {};
  }
}
