/**
 * Issue #15 item 2: a SHADOW measured on simulated traffic, run through the real lifecycle workflow (time-skipping
 * server, shared fake activities), is labelled simulated wherever its decision is shown: the decision the
 * workflow records, `vigil release status`, the UI release page and the dossier. The same run on gateway telemetry
 * carries no label.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VigilActivities } from '../../src/activities';
import { formatStatus } from '../../src/cli/format';
import type { MeasurementSource, ReleaseStatus, ShadowMeasurement } from '../../src/domain';
import { releaseStatusQuery } from '../../src/domain/messages';
import { collectDossier } from '../../src/dossier';
import { renderDossierHtml } from '../../src/dossier/render';
import { SIMULATED_LABEL } from '../../src/judging';
import { releasePage } from '../../src/ui/views';
import { fakeActivities } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { startTimeSkippingEnv, withWorker } from '../support/time-skipping';
import { MemoryEvidence } from '../unit/ui-fakes';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

/** Run a release whose SHADOW is measured on `source` until it awaits approval; its status and evidence store. */
async function awaitingApproval(
  source: MeasurementSource,
  fields: Partial<ShadowMeasurement> = {},
): Promise<{ status: ReleaseStatus; store: MemoryEvidence }> {
  const store = new MemoryEvidence();
  const f = fakeActivities({ shadow: { measurement: { source, ...fields } } });
  const acts: VigilActivities = {
    ...f.acts,
    // The shadow record as the live sources write it, so the dossier reads it from the store.
    observeShadow: async (input) => {
      const out = await f.acts.observeShadow(input);
      const record = await store.putJson({
        kind: 'vigil.shadow/v1',
        releaseId: input.releaseId,
        source,
        window: 'shadow:test',
        threshold: 0.5,
        measurement: out.measurement,
      });
      return { ...out, artifacts: [record] };
    },
  };
  const status = await withWorker(env, acts, async (taskQueue) => {
    const handle = await env.client.workflow.start('releaseLifecycle', {
      taskQueue,
      workflowId: `simulated-label-${source}-${Date.now()}`,
      args: [validRequest()],
    });
    for (let i = 0; i < 600; i++) {
      const s = await handle.query(releaseStatusQuery).catch(() => null);
      if (s?.stage === 'AWAITING_APPROVAL') {
        await handle.terminate('test done');
        return s;
      }
      if (s?.outcome) assert.fail(`ended before approval: ${s.outcome} ${s.reason}`);
      await env.sleep('10 minutes');
    }
    throw new Error('never reached AWAITING_APPROVAL');
  });
  return { status, store };
}

/** What each place that shows the SHADOW decision renders. */
async function surfaces({ status, store }: { status: ReleaseStatus; store: MemoryEvidence }) {
  const shadow = status.history.find((h) => h.stage === 'SHADOW' && h.decision)!;
  const ui = String(
    await releasePage(
      { user: null, csrf: null },
      { status, dossier: null, sign: { eligibleRoles: [], meanings: {}, blockedReason: 'test' } },
    ),
  );
  const data = await collectDossier(store, {
    releaseId: status.releaseId,
    request: validRequest(),
    policySha256: 'a'.repeat(64),
    // The route tables the stage also lists are fakes' references with no bytes behind them.
    history: [{ ...shadow, artifacts: shadow.artifacts.filter((a) => store.objects.has(a.key)) }],
    chainHead: null,
    at: shadow.endedAt!,
  });
  return {
    headline: shadow.decision!.reasons[0]!,
    measured: shadow.measured,
    cli: formatStatus(status),
    ui,
    dossier: renderDossierHtml(data),
  };
}

describe('a simulated measurement is labelled wherever its decision is shown (time skipping)', () => {
  it('labels the SHADOW decision in the workflow, status, UI and dossier; telemetry is not labelled', async () => {
    const simulated = await surfaces(await awaitingApproval('simulated'));
    const expected = 'agreement with production 0.9500 on 1000 mirrored cases (simulated traffic)';
    assert.equal(simulated.headline, expected);
    const cliShadow = simulated.cli.split('\n').find((l) => l.startsWith('SHADOW'));
    assert.ok(cliShadow?.includes(`pass: ${expected}`), `status line: ${cliShadow}`);
    assert.ok(simulated.ui.includes(`<li>${expected}</li>`), 'UI stage decisions list the labelled reason');
    assert.ok(simulated.dossier.includes(`— ${expected}</p>`), 'dossier shadow gate quotes the labelled reason');
    assert.match(simulated.dossier, /<strong>Simulated traffic\.<\/strong>[^<]*SHADOW/);

    const telemetry = await surfaces(await awaitingApproval('gateway-telemetry'));
    assert.equal(telemetry.headline, expected.slice(0, -SIMULATED_LABEL.length));
    for (const text of [telemetry.cli, telemetry.ui, telemetry.dossier]) assert.ok(!text.includes(SIMULATED_LABEL));
    assert.doesNotMatch(telemetry.dossier, /Simulated traffic\./);
  });

  it('shows source, completeness, mirror coverage and attempts as fields in status, UI and dossier', async () => {
    const simulated = await surfaces(await awaitingApproval('simulated', { attempt: 2 }));
    // Status (the releaseStatus query the API serves): the SHADOW record's fields.
    assert.deepEqual(simulated.measured, { source: 'simulated', attempts: 2 });
    assert.match(simulated.cli, /\n {2}SHADOW: simulated traffic \(source: simulated\) · attempt 2(\n|$)/);
    assert.match(simulated.ui, /<span class="bad" data-testid="measured" data-source="simulated" data-attempts="2">/);
    assert.match(simulated.dossier, /<dd data-field="source">simulated \(source: simulated\)/);
    assert.match(simulated.dossier, /<dd data-field="attempts">2<\/dd>/);
    assert.doesNotMatch(simulated.dossier, /data-field="completeness"/);

    const completeness = { complete: true, gateways: 2, lagging: 0, waitedMs: 1500 };
    const mirror = { production: 1000, paired: 942, unpaired: 58, coverage: 0.942, orphanShadow: 0, invalidScores: 0 };
    const telemetry = await surfaces(await awaitingApproval('gateway-telemetry', { attempt: 1, completeness, mirror }));
    assert.deepEqual(telemetry.measured, {
      source: 'gateway-telemetry',
      completeness,
      mirrorCoverage: 0.942,
      attempts: 1,
    });
    assert.ok(
      telemetry.cli.includes(
        '  SHADOW: gateway-telemetry · window complete (2 gateways) · mirror coverage 94.2% · attempt 1',
      ),
      telemetry.cli,
    );
    assert.match(
      telemetry.ui,
      /data-source="gateway-telemetry" data-complete="true" data-mirror-coverage="0.942" data-attempts="1">gateway-telemetry · window complete/,
    );
    assert.match(telemetry.dossier, /<dd data-field="source">gateway-telemetry[ <]/);
    assert.match(telemetry.dossier, /<dd data-field="completeness" data-complete="true">complete \(2 gateways\)<\/dd>/);
    assert.match(telemetry.dossier, /<dd data-field="mirror-coverage">94\.2% \(942 of 1000 production predictions/);

    // A measurement recorded before attempts were (older live sources) gives the stage record no fields.
    const older = await surfaces(await awaitingApproval('gateway-telemetry'));
    assert.equal(older.measured, undefined);
  });
});
