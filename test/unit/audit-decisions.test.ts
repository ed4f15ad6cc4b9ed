/**
 * Decision recomputation and history reading on the golden full-lifecycle history: the pure judges
 * reproduce every recorded gate decision, and any disagreement names the history event.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  chainWritesMatch,
  completedActivities,
  describeRun,
  firstDifferingEvent,
  recomputeDecisions,
} from '../../src/audit';
import { AesGcmPayloadCodec } from '../../src/codec';
import type { ChainEntry } from '../../src/domain';

const DIR = path.resolve(__dirname, '../histories/v0.1.0');
const FILE = 'release-lifecycle-released.json';
const json = readFileSync(path.join(DIR, FILE), 'utf8');
const workflowId = (JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>)[
  FILE
]!;

/** The lifecycle's own chain entries, as it handed them to appendChainEntry (digests stand in for the store's). */
async function chainFromHistory(text = json) {
  const run = await describeRun(workflowId, 'run', 'archive', text);
  const calls = completedActivities(run);
  const entries = calls
    .filter((c) => c.name === 'appendChainEntry')
    .map((c) => ({
      ...(c.input as ChainEntry),
      key: `chain/${(c.input as ChainEntry).seq}`,
      digest: (c.result as { digest: string }).digest,
    }));
  return { run, calls, entries };
}

/** Rewrite one activity result in a history JSON text. */
function alterResult(
  text: string,
  activity: string,
  change: (v: Record<string, unknown>) => void,
): { text: string; eventId: number } {
  const doc = JSON.parse(text);
  const scheduled = doc.events.find(
    (e: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }) =>
      e.activityTaskScheduledEventAttributes?.activityType.name === activity,
  );
  const done = doc.events.find(
    (e: { activityTaskCompletedEventAttributes?: { scheduledEventId: string } }) =>
      e.activityTaskCompletedEventAttributes?.scheduledEventId === scheduled.eventId,
  );
  const p = done.activityTaskCompletedEventAttributes.result.payloads[0];
  const value = defaultPayloadConverter.fromPayload({
    metadata: { encoding: Buffer.from(p.metadata.encoding, 'base64') },
    data: Buffer.from(p.data, 'base64'),
  } as Payload) as Record<string, unknown>;
  change(value);
  p.data = Buffer.from(JSON.stringify(value)).toString('base64');
  return { text: JSON.stringify(doc), eventId: Number(done.eventId) };
}

describe('decision recomputation from history', () => {
  it('recomputes every measured gate of the lifecycle identically', async () => {
    const { calls, entries } = await chainFromHistory();
    const r = recomputeDecisions(
      calls,
      entries.filter((e) => e.stage !== 'MONITORING' || e.step === null),
    );
    assert.deepEqual(r.findings, []);
    assert.deepEqual(
      r.checks.map((c) => [c.stage, c.step, c.match]),
      [
        ['SNAPSHOT', null, true],
        ['OFFLINE_EVAL', null, true],
        ['SHADOW', null, true],
        ['CANARY', 0, true],
        ['CANARY', 1, true],
      ],
    );
    assert.match(r.policySha256 ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(chainWritesMatch(calls, entries), []);
  });

  it('names the event when a recorded measurement no longer supports the recorded decision', async () => {
    const altered = alterResult(
      json,
      'observeShadow',
      (v) => ((v.measurement as { agreement: number }).agreement = 0.5),
    );
    const { calls } = await chainFromHistory(altered.text);
    const { entries } = await chainFromHistory();
    const r = recomputeDecisions(calls, entries);
    assert.equal(r.findings.length, 1);
    const f = r.findings[0]!;
    assert.match(
      f.problem,
      new RegExp(
        `^SHADOW: decision recomputed from event ${altered.eventId} \\(ActivityTaskCompleted observeShadow\\) of ${workflowId} run run differs from chain entry 2$`,
      ),
    );
    assert.match(f.expected!, /^fail: agreement with production 0\.5000 is below the minimum/);
    assert.match(f.actual!, /^pass: /);
  });

  it('flags a measurement judged under a policy other than the pinned one', async () => {
    const { calls, entries } = await chainFromHistory();
    const shadow = calls.find((c) => c.name === 'observeShadow')!;
    const input = shadow.input as { request: { policy: { shadow: { minAgreement: number } } } };
    input.request = structuredClone(input.request);
    input.request.policy.shadow.minAgreement = 0.1;
    const r = recomputeDecisions(calls, entries);
    assert.ok(
      r.findings.some((f) =>
        /observeShadow.*judged under a policy other than the one pinned at SNAPSHOT/.test(f.problem),
      ),
    );
  });

  it('flags a chain write that differs from the stored entry', async () => {
    const { calls, entries } = await chainFromHistory();
    entries[3] = { ...entries[3]!, digest: 'f'.repeat(64) };
    const f = chainWritesMatch(calls, entries);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.key, 'chain/3');
    assert.equal(f[0]!.actual, 'f'.repeat(64));
  });

  it('reads a history whose payloads are encrypted, given the codec', async () => {
    const codec = new AesGcmPayloadCodec(Buffer.alloc(32, 7));
    const history = historyFromJSON(JSON.parse(json));
    for (const e of history.events ?? []) {
      const holder = e.activityTaskCompletedEventAttributes?.result ?? e.activityTaskScheduledEventAttributes?.input;
      if (holder?.payloads) holder.payloads = await codec.encode(holder.payloads as Payload[]);
    }
    const encrypted = historyToJSON(history);
    const plain = completedActivities(await describeRun(workflowId, 'run', 'archive', encrypted, [codec]));
    const { calls } = await chainFromHistory();
    assert.deepEqual(
      plain.map((c) => [c.name, c.result]),
      calls.map((c) => [c.name, c.result]),
    );
  });
});

describe('archive vs Temporal history', () => {
  it('accepts an archived prefix and names the first differing event', () => {
    const doc = JSON.parse(json);
    const prefix = JSON.stringify({ events: doc.events.slice(0, 40) });
    assert.equal(firstDifferingEvent(prefix, json), null);
    doc.events[11].eventTime = '2000-01-01T00:00:00Z';
    const changed = JSON.stringify({ events: doc.events.slice(0, 40) });
    assert.deepEqual(firstDifferingEvent(changed, json), {
      eventId: 12,
      problem: 'archived event differs from the one Temporal holds at .eventTime',
    });
  });
  it('echoes how a live decision was measured, with the attempts counted from the history', async () => {
    const completeness = { complete: true, gateways: 1, lagging: 0, waitedMs: 900 };
    const withFields = (attempt: number) =>
      alterResult(json, 'observeShadow', (v) => {
        // (No `mirror`: the shadow judge quotes its coverage, so the recorded decision would no longer match.)
        Object.assign(v.measurement as object, { source: 'gateway-telemetry', completeness, attempt });
      }).text;
    const ok = await chainFromHistory(withFields(1));
    const r = recomputeDecisions(
      ok.calls,
      ok.entries.filter((e) => e.stage !== 'MONITORING' || e.step === null),
    );
    assert.deepEqual(r.findings, []);
    const shadow = r.checks.find((c) => c.stage === 'SHADOW')!;
    assert.equal(shadow.match, true);
    assert.deepEqual(shadow.measured, { source: 'gateway-telemetry', completeness, attempts: 1 });
    // Decisions measured before sources were named carry no fields.
    assert.equal(r.checks.find((c) => c.stage === 'CANARY')!.measured, undefined);

    // A measurement claiming another attempt than the history's is a finding; the history's count is reported.
    const off = await chainFromHistory(withFields(3));
    const r3 = recomputeDecisions(
      off.calls,
      off.entries.filter((e) => e.stage !== 'MONITORING' || e.step === null),
    );
    assert.equal(r3.checks.find((c) => c.stage === 'SHADOW')!.measured!.attempts, 1);
    assert.equal(r3.findings.length, 1);
    assert.match(r3.findings[0]!.problem, /observeShadow.*the measurement records attempt 3, the history attempt 1$/);
  });
});
