/**
 * Reading workflow histories as an auditor: decode activity inputs and results with the default data
 * converter, and name events the way Temporal's UI does (event id, type, activity).
 */
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActivityCall {
  workflowId: string;
  runId: string;
  name: string;
  scheduledEventId: number;
  completedEventId: number;
  /** The attempt that completed (ActivityTaskStarted's attempt; 1: the first), when the history says. */
  attempt?: number;
  input: unknown;
  result: unknown;
}

/** One history run with what the audit needs from it. */
export interface RunHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  source: 'temporal' | 'archive';
  json: string;
  /** As stored: what replay gets (with the same codecs as the worker). */
  history: History;
  /** A second copy with payloads passed through the payload codecs, for reading inputs and results. */
  decoded: History;
  /** Build ids stamped on workflow tasks (the SDK's `@temporalio/worker@<v>+<bundle sha256>`). */
  buildIds: string[];
  /** Input of the run (first argument) and, when the history includes completion, its result. */
  input: unknown;
  result: unknown;
  completed: boolean;
}

export function parseHistory(json: string): History {
  return historyFromJSON(JSON.parse(json));
}

const num = (v: unknown): number => Number(v ?? 0);

function decode(payloads: Payload[] | null | undefined): unknown {
  const first = payloads?.[0];
  return first ? defaultPayloadConverter.fromPayload(first) : undefined;
}

/**
 * Undo payload encryption (the codecs the worker was configured with) on the payloads the audit
 * reads: workflow input and result, activity inputs and results.
 */
async function decodeWithCodecs(history: History, codecs: readonly PayloadCodec[]): Promise<void> {
  if (codecs.length === 0) return;
  const decodeAll = async (holder: { payloads?: Payload[] | null } | null | undefined): Promise<void> => {
    if (!holder?.payloads?.length) return;
    let payloads = holder.payloads;
    for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
    holder.payloads = payloads;
  };
  for (const e of history.events ?? []) {
    await decodeAll(e.workflowExecutionStartedEventAttributes?.input as { payloads?: Payload[] } | undefined);
    await decodeAll(e.workflowExecutionCompletedEventAttributes?.result as { payloads?: Payload[] } | undefined);
    await decodeAll(e.activityTaskScheduledEventAttributes?.input as { payloads?: Payload[] } | undefined);
    await decodeAll(e.activityTaskCompletedEventAttributes?.result as { payloads?: Payload[] } | undefined);
  }
}

export async function describeRun(
  workflowId: string,
  runId: string,
  source: RunHistory['source'],
  json: string,
  codecs: readonly PayloadCodec[] = [],
): Promise<RunHistory> {
  const history = parseHistory(json);
  const decoded = parseHistory(json);
  await decodeWithCodecs(decoded, codecs);
  const events = decoded.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const buildIds = new Set<string>();
  for (const e of events) {
    const id = e.workflowTaskCompletedEventAttributes?.workerVersion?.buildId;
    if (id) buildIds.add(id);
  }
  const completion = events.find(
    (e) => e.workflowExecutionCompletedEventAttributes,
  )?.workflowExecutionCompletedEventAttributes;
  return {
    workflowId,
    runId,
    workflowType: started?.workflowType?.name ?? '(unknown)',
    source,
    json,
    history,
    decoded,
    buildIds: [...buildIds],
    input: decode(started?.input?.payloads as Payload[] | undefined),
    result: completion ? decode(completion.result?.payloads as Payload[] | undefined) : undefined,
    completed: completion !== undefined,
  };
}

/** Completed activities, in history order, with decoded first input argument and result. */
export function completedActivities(run: RunHistory): ActivityCall[] {
  const scheduled = new Map<number, HistoryEvent>();
  const started = new Map<number, HistoryEvent>();
  const out: ActivityCall[] = [];
  for (const e of run.decoded.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(num(e.eventId), e);
    if (e.activityTaskStartedEventAttributes) started.set(num(e.eventId), e);
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) continue;
    const s = scheduled.get(num(done.scheduledEventId));
    const attrs = s?.activityTaskScheduledEventAttributes;
    const attempt = started.get(num(done.startedEventId))?.activityTaskStartedEventAttributes?.attempt;
    out.push({
      workflowId: run.workflowId,
      runId: run.runId,
      name: attrs?.activityType?.name ?? '(unknown)',
      scheduledEventId: num(done.scheduledEventId),
      completedEventId: num(e.eventId),
      ...(typeof attempt === 'number' && attempt > 0 ? { attempt } : {}),
      input: decode(attrs?.input?.payloads as Payload[] | undefined),
      result: decode(done.result?.payloads as Payload[] | undefined),
    });
  }
  return out;
}

/** "event 45 (ActivityTaskCompleted observeShadow) of <workflowId> run <runId>" */
export function eventLabel(call: Pick<ActivityCall, 'completedEventId' | 'name' | 'workflowId' | 'runId'>): string {
  return `event ${call.completedEventId} (ActivityTaskCompleted ${call.name}) of ${call.workflowId} run ${call.runId}`;
}

/**
 * Compare an archived (partial) history with the full one from Temporal: every archived event must
 * be present, byte-for-byte in JSON form. Returns the first differing event id, or null.
 */
export function firstDifferingEvent(
  archivedJson: string,
  fullJson: string,
): { eventId: number; problem: string } | null {
  const a = (JSON.parse(archivedJson) as { events?: unknown[] }).events ?? [];
  const f = (JSON.parse(fullJson) as { events?: unknown[] }).events ?? [];
  for (let i = 0; i < a.length; i++) {
    if (i >= f.length) return { eventId: i + 1, problem: 'archived event is not in the history Temporal holds' };
    const path = differingPath(a[i], f[i]);
    if (path !== null)
      return { eventId: i + 1, problem: `archived event differs from the one Temporal holds at ${path || '(root)'}` };
  }
  return null;
}

/** The first JSON path at which two values differ, or null when they are equal. */
function differingPath(a: unknown, b: unknown, at = ''): string | null {
  if (a === b) return null;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return at;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (const k of new Set([...ka, ...kb])) {
    const p = differingPath((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    if (p !== null) return p;
  }
  return null;
}
