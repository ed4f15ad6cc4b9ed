/**
 * The live source is chosen once, when the worker starts (VIGIL_LIVE_SOURCE), and every live activity measures
 * through it — except a drill's look, which always rehearses on the simulated world — and every measurement names
 * its source.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActivities, type ActivityDeps, type LiveSource } from '../../src/activities';
import type { ObserveLiveInput } from '../../src/contracts/live-source';
import { loadConfig } from '../../src/config';
import { TrafficScenarioSchema } from '../../src/domain';
import { createS3Client, EvidenceStore } from '../../src/evidence';
import { createLogger } from '../../src/logging/logger';
import { SimulatedTraffic } from '../../src/sim/traffic';
import { liveSourceFor } from '../../src/workers/create-worker';
import { validRequest } from '../support/fixtures';
import { memoryEvidence } from '../support/memory-evidence';
import { ref } from '../support/time-skipping';

describe('live source chosen at start-up', () => {
  const clients = (env: Record<string, string>) => {
    const config = loadConfig(env);
    const s3 = createS3Client(config.s3);
    const evidence = new EvidenceStore({ s3, bucket: config.s3.bucket, retention: null });
    return liveSourceFor(config, { s3, evidence, traffic: new SimulatedTraffic() }).kind;
  };

  it('VIGIL_LIVE_SOURCE picks the implementation: simulated by default, gateway-telemetry (or its older name)', () => {
    assert.equal(clients({}), 'simulated');
    assert.equal(clients({ VIGIL_LIVE_SOURCE: 'simulated' }), 'simulated');
    assert.equal(clients({ VIGIL_LIVE_SOURCE: 'gateway-telemetry' }), 'gateway-telemetry');
    assert.equal(clients({ VIGIL_LIVE_SOURCE: 'telemetry' }), 'gateway-telemetry');
    assert.throws(() => loadConfig({ VIGIL_LIVE_SOURCE: 'gateway' }), /VIGIL_LIVE_SOURCE/);
  });

  it('observeShadow, observeLive and observeDrift measure through the injected source; a drill stays simulated', async () => {
    const calls: string[] = [];
    const out = (kind: string) => ({ measurement: { kind } as never, artifacts: [ref(1)] });
    const live: LiveSource = {
      kind: 'gateway-telemetry',
      shadow: async () => (calls.push('shadow'), out('shadow')),
      window: async () => (calls.push('window'), out('window')),
      drift: async () => (calls.push('drift'), out('drift')),
    };
    const drawn: string[] = [];
    const traffic = new SimulatedTraffic();
    const deps = {
      evidence: memoryEvidence(),
      traffic: { cases: (w: string, n: number, i?: number) => (drawn.push(w), traffic.cases(w, n, i)) },
      log: createLogger('test', 'silent'),
      live,
    } as unknown as ActivityDeps;
    const acts = createActivities(deps);
    const request = validRequest();
    const at = '2026-03-01T10:00:00.000Z';
    await acts.observeShadow({ releaseId: 'r', request, at });
    const look: ObserveLiveInput = {
      releaseId: 'r',
      request,
      mode: 'canary',
      step: 0,
      percent: 10,
      cases: 50,
      baseline: null,
      at,
    };
    await acts.observeLive(look);
    await acts.observeDrift({
      releaseId: 'r',
      request,
      step: 0,
      cases: 50,
      baseline: request.policy.canary.guardrails as never,
      recent: [],
      at,
    });
    assert.deepEqual(calls, ['shadow', 'window', 'drift']);
    assert.deepEqual(drawn, [], 'no simulated traffic read when the gateway is the source');

    // A drill's scenario: the simulated world, whatever the worker's source (it scores the release's models, so the
    // fixture's unreadable model refs fail after the traffic is drawn — what matters is where it drew from).
    const scenario = TrafficScenarioSchema.parse({
      name: 'drill',
      shift: { feature: 'x0', offset: 1, fromInterval: 0, phase: 'live' },
    });
    await acts.observeLive({ ...look, scenario }).catch(() => undefined);
    assert.deepEqual(calls, ['shadow', 'window', 'drift']);
    assert.equal(drawn.length, 1);
    assert.match(drawn[0]!, /^canary:/);
  });
});
