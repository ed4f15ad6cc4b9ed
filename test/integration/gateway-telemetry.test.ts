import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { EvidenceStore, createS3Client } from '../../src/evidence';
import { S3RouteStore } from '../../src/gateway';
import { startTestStack, type TestStack } from '../../src/stack';
import { hashCaseId, TelemetryReader } from '../../src/telemetry';
import { gatewayEnv, processExited, startGatewayProcess, writeDemoModelsFile } from '../support/gateway-process';

const TOKEN = 'gateway-control-token-0123';
const KEY = 'gateway-case-id-key-0123';
const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('gateway process: SIGKILL after acknowledgement loses no telemetry', () => {
  let stack: TestStack;
  let s3: S3Client;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async () => {
    stack = await startTestStack({ temporal: false });
    s3 = createS3Client(stack.s3Config);
    dir = fs.mkdtempSync(path.join(stack.stateDir, 'gw-'));
    const modelsFile = writeDemoModelsFile(dir);
    env = gatewayEnv(stack, { modelsFile, controlToken: TOKEN, caseIdKey: KEY, dir });
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    s3?.destroy();
    await stack?.stop();
  });

  it('replays the WAL after a kill -9, uploads segments to S3, and answers which version saw a case', async () => {
    const first = await startGatewayProcess(env);
    children.push(first.proc);

    // A route change through the control API is persisted to the S3 route store before it is acknowledged.
    const put = await fetch(`${first.url}/control/routes/sepsis-alert`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'if-match': '"1"', 'content-type': 'application/json' },
      body: JSON.stringify({
        version: 2,
        production: '1.4.0',
        canary: { model: '2.0.0', percent: 50 },
        threshold: 0.3,
      }),
    });
    assert.equal(put.status, 200);

    const infer = await post(`${first.url}/v2/models/sepsis-alert/infer`, {
      parameters: { case_id: 'patient-42/encounter-7' },
      inputs: FEATURES.map((f) => ({ name: f, shape: [1], datatype: 'FP32', data: [0.2] })),
    });
    assert.equal(infer.status, 200);
    const servedBy = infer.body.model_version as string;

    const acked: string[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, b) => {
        const events = Array.from({ length: 50 }, (_, i) => ({
          model: 'sepsis-alert',
          case_id: `case-${b}-${i}`,
          label: i % 2,
          source: 'clinician_review',
          observed_at: '2026-03-01T10:00:00Z',
        }));
        const r = await post(`${first.url}/v2/telemetry/outcomes`, { events });
        assert.equal(r.status, 202);
        acked.push(...(r.body.eventIds as string[]));
      }),
    );
    assert.equal(acked.length, 2000);
    await new Promise((r) => setTimeout(r, 250)); // let the (unacknowledged, relaxed) prediction event reach its group commit
    first.proc.kill('SIGKILL');
    await processExited(first.proc);
    assert.ok(
      fs.readdirSync(env.VIGIL_GATEWAY_WAL_DIR!).length > 0,
      'events were still only in the WAL when the process died',
    );

    const second = await startGatewayProcess(env);
    children.push(second.proc);
    const reader = new TelemetryReader(
      s3,
      stack.bucket,
      new EvidenceStore({ s3, bucket: stack.bucket, retention: null }),
    );
    const deadline = Date.now() + 30_000;
    let found = new Set<string>();
    while (Date.now() < deadline) {
      // Every window (the run may straddle an hour boundary).
      const windows = await reader.windows().catch(() => [] as string[]);
      found = new Set((await Promise.all(windows.map((w) => reader.events(w)))).flat().map((e) => e.eventId));
      if (acked.every((id) => found.has(id))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const lost = acked.filter((id) => !found.has(id));
    assert.deepEqual(lost, [], `${lost.length} acknowledged events lost`);

    // Which model version processed this case? Answered from S3 after the restart.
    const hash = hashCaseId('patient-42/encounter-7', KEY);
    const records = await reader.lookupCase(hash);
    assert.deepEqual(
      records.map((r) => [r.modelVersion, r.routeVersion]),
      [[servedBy, 2]],
    );
    const res = await fetch(`${second.url}/v2/telemetry/cases/${hash}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(
      ((await res.json()) as { predictions: Array<{ modelVersion: string }> }).predictions[0]?.modelVersion,
      servedBy,
    );

    // The restarted gateway took the route table from the store, not from the models file.
    const routes = (await (
      await fetch(`${second.url}/control/routes/sepsis-alert`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { version: number };
    assert.equal(routes.version, 2);
    assert.equal((await new S3RouteStore(s3, stack.bucket).current('sepsis-alert'))?.version, 2);

    // No raw case id in any uploaded object or in the WAL.
    const segmentText = fs
      .readdirSync(env.VIGIL_GATEWAY_WAL_DIR!)
      .map((f) => fs.readFileSync(path.join(env.VIGIL_GATEWAY_WAL_DIR!, f), 'utf8'))
      .join('');
    assert.ok(!segmentText.includes('patient-42'));

    second.proc.kill('SIGTERM');
    await processExited(second.proc);
    assert.equal(second.proc.exitCode, 0);
  });
});
