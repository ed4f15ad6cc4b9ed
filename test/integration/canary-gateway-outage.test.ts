/**
 * Issue #15, on the real stack (Temporal dev server, SeaweedFS, the real gateway process, the real worker measuring
 * from `gateway-telemetry`): the inference gateway is down for a whole canary step — killed before the canary starts,
 * so its upload watermark stays behind the step's window and no request is served in it. That step must be
 * inconclusive (window incomplete) and baked again, never passed; once the gateway is back (same id, same WAL) and
 * traffic resumes, a later look of the same step passes on the traffic it measured and the release moves on to
 * MONITORING.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { DEFAULT_COHORT_GUARDRAILS, type ReleaseStatus, type StageRecord } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { startDemoTraffic, type DemoTraffic } from '../../src/stack/demo-traffic';
import { createVigilWorker, liveSourceFor } from '../../src/workers/create-worker';
import {
  gatewayEnv,
  processExited,
  startGatewayProcess,
  writeDemoModelsFile,
  type GatewayChild,
} from '../support/gateway-process';
import {
  demoRequest,
  fastPolicy,
  reviewerApproval,
  startHarness,
  startRelease,
  waitFor,
  workflowBundle,
  type Harness,
} from '../support/harness';

const TOKEN = 'outage-control-token-0123456789';
const KEY = 'outage-case-id-key-0123456789';
const BAKE_SECONDS = 10;

describe('a gateway outage for a whole canary step on the real stack', { timeout: 420_000 }, () => {
  let h: Harness;
  let gateway: GatewayChild | null = null;
  let traffic: DemoTraffic | null = null;
  let worker: Worker | null = null;
  let running: Promise<void> | null = null;
  let native: NativeConnection | null = null;
  let env: NodeJS.ProcessEnv;
  let port = 0;

  const stopGateway = async (signal: NodeJS.Signals): Promise<void> => {
    const g = gateway;
    gateway = null;
    if (g && g.proc.exitCode === null && g.proc.signalCode === null) {
      g.proc.kill(signal);
      await processExited(g.proc);
    }
  };

  /** The gateway on its first port again: a restart keeps its address (the traffic driver's URL). */
  const startGateway = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        gateway = await startGatewayProcess({ ...env, VIGIL_GATEWAY_PORT: String(port) });
        port = Number(new URL(gateway.url).port);
        return;
      } catch (err) {
        // The port can be taken while the gateway is down; a few retries, then the error.
        if (attempt >= 5 || !/EADDRINUSE|address already in use/i.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };

  before(async () => {
    h = await startHarness({ worker: false });
    const dir = fs.mkdtempSync(path.join(h.stack.stateDir, 'gw-outage-'));
    env = {
      ...gatewayEnv(h.stack, { modelsFile: writeDemoModelsFile(dir, 0), controlToken: TOKEN, caseIdKey: KEY, dir }),
      VIGIL_GATEWAY_ID: 'outage-gateway',
      // Routes follow the route store the workflow writes (shadow, canary); input sketches in 1 s buckets.
      VIGIL_GATEWAY_ROUTE_POLL_MS: '500',
      VIGIL_GATEWAY_SKETCH_BUCKET_MS: '1000',
    };
    await startGateway();
    traffic = startDemoTraffic({
      gatewayUrl: `http://127.0.0.1:${port}`,
      model: 'sepsis-alert',
      rate: 100,
      outcomeDelayMs: 800,
      ingestToken: TOKEN,
      live: () => Promise.resolve(true),
      log: createLogger('outage-traffic', 'error'),
      chunkSeconds: 2,
    });
    // The worker measures the live stages from the gateway's telemetry; a window waits at most 15 s for watermarks.
    // Generous: the live gateway's watermark trails by a segment (2 s) plus its upload, which took over 5 s under CI
    // load in the topology test, and SHADOW is judged once: an incomplete shadow window rejects the release.
    const config = { ...h.config, liveSource: 'gateway-telemetry' as const, telemetryWaitMs: 15_000 };
    const live = liveSourceFor(config, { s3: h.s3, evidence: h.evidence, traffic: h.deps.traffic });
    native = await NativeConnection.connect({ address: h.config.temporal.address });
    worker = await createVigilWorker({
      connection: native,
      namespace: 'default',
      deps: { ...h.deps, live },
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
  });

  after(async () => {
    traffic?.stop();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await native?.close();
    await stopGateway('SIGTERM');
    await h?.stop();
  });

  it('holds the step inconclusive while the gateway is down, then passes it on the resumed traffic', async () => {
    const policy = await fastPolicy('demo.yaml', (p) => {
      p.shadow.durationSeconds = 8;
      p.shadow.cases = 200;
      delete p.shadow.adjudication;
      p.canary.steps = [{ percent: 50, bakeSeconds: BAKE_SECONDS, cases: 1000 }];
      const seq = p.canary.sequential!;
      // Small windows: a few hundred cases per look. The outage, not the statistics, is what is tested here.
      seq.minPositives = 10;
      seq.maxExtensions = 4;
      seq.maxAlertRateRatio = 3;
      seq.cohorts = { ...DEFAULT_COHORT_GUARDRAILS, attributes: [] };
      p.monitoring.intervalSeconds = 5;
    });
    const handle = await startRelease(h, await demoRequest(h, policy));
    const status = (): Promise<ReleaseStatus> => handle.query(releaseStatusQuery);
    const waiting = await waitFor(
      'AWAITING_APPROVAL',
      async () => {
        const s = await status();
        if (s.outcome) throw new Error(`ended ${s.outcome}: ${s.reason}`);
        return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
      },
      180_000,
    );
    const shadow = waiting.history.find((r) => r.stage === 'SHADOW' && r.decision)!;
    assert.equal(shadow.decision!.verdict, 'pass', shadow.decision!.reasons.join('; '));
    assert.equal(shadow.measured?.source, 'gateway-telemetry');

    // The gateway goes down before the canary starts (a crash: nothing flushed, its watermark stays behind).
    await stopGateway('SIGKILL');
    const downUntil = { at: Infinity };
    for (const role of ['qa', 'clinical'] as const)
      await handle.executeUpdate(approveReleaseUpdate, { args: [reviewerApproval(role, waiting.dossier!.sha256)] });

    const canaryLooks = (s: ReleaseStatus): StageRecord[] =>
      s.history.filter((r) => r.stage === 'CANARY' && r.decision !== null);
    const [first] = await waitFor(
      'the first canary look',
      async () => {
        const looks = canaryLooks(await status());
        return looks.length > 0 ? looks : null;
      },
      120_000,
    );
    assert.equal(first!.decision!.verdict, 'inconclusive', first!.decision!.reasons.join('; '));
    assert.equal(first!.measured?.source, 'gateway-telemetry');
    assert.equal(first!.measured?.completeness?.complete, false, JSON.stringify(first!.measured));
    assert.equal(first!.measured?.completeness?.lagging, 1);
    assert.ok(
      first!.decision!.reasons.some((r) => /incomplete/i.test(r)),
      `the decision says the window was incomplete: ${first!.decision!.reasons.join('; ')}`,
    );

    // Back up: same id, same WAL, same port; traffic resumes.
    await startGateway();
    downUntil.at = Date.now();
    const done = await waitFor(
      'the canary step to pass',
      async () => {
        const s = await status();
        if (s.outcome) throw new Error(`ended ${s.outcome}: ${s.reason}`);
        return s.stage === 'MONITORING' ? s : null;
      },
      240_000,
    );
    const looks = canaryLooks(done);
    const passed = looks.filter((r) => r.decision!.verdict === 'pass');
    assert.equal(passed.length, 1, looks.map((r) => `${r.decision!.verdict}: ${r.decision!.reasons[0]}`).join('\n'));
    assert.equal(looks.at(-1)!.decision!.verdict, 'pass');
    // Every look but the last was not a pass, and no look that ended while the gateway was down passed.
    for (const r of looks.slice(0, -1)) assert.equal(r.decision!.verdict, 'inconclusive', r.decision!.reasons[0]);
    for (const r of looks.filter((x) => Date.parse(x.endedAt!) < downUntil.at))
      assert.notEqual(r.decision!.verdict, 'pass');
    assert.ok(looks.length >= 2, 'the step was extended');
    const pass = passed[0]!;
    assert.equal(pass.step, 0);
    assert.equal(pass.measured?.source, 'gateway-telemetry');
    assert.equal(pass.measured?.completeness?.complete, true, JSON.stringify(pass.measured));
    await handle.terminate('test done');
  });
});
