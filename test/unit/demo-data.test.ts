/** The committed demo artifacts are exactly what src/demo/artifacts.ts generates, and tell their stories. */
import assert from 'node:assert/strict';
import { assertSameText } from '../support/same-text';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { demoFiles } from '../../src/demo/artifacts';
import { DEMO_DIR, loadPolicyFile } from '../../src/demo/seed';

it('demo/ matches its generator byte for byte (npm run demo:data regenerates it)', () => {
  for (const [rel, content] of Object.entries(demoFiles())) {
    assertSameText(readFileSync(path.join(DEMO_DIR, rel), 'utf8'), content, rel);
  }
});

it('both demo policies load and differ only where the story says', async () => {
  const normal = await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo.yaml'));
  const tight = await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo-tight-guardrail.yaml'));
  assert.equal(tight.canary.guardrails.maxAlertRateRatio, 1.1);
  assert.deepEqual({ ...tight, version: normal.version, canary: normal.canary }, normal);
});
