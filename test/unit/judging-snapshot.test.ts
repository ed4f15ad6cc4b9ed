/** The SNAPSHOT judge: provenance, digests, and criteria registered before training. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { SnapshotMeasurement } from '../../src/domain';
import { judgeSnapshot } from '../../src/judging';

const base: SnapshotMeasurement = { policySha256: 'a'.repeat(64), missingFields: [], digestMismatches: [] };

it('passes complete provenance with criteria registered before training started', () => {
  const d = judgeSnapshot({
    ...base,
    preRegistration: { registeredAt: '2026-06-01T09:00:00Z', trainingStartedAt: '2026-09-15T08:00:00Z' },
  });
  assert.equal(d.verdict, 'pass');
});

it('fails criteria registered after training started: they are not pre-registered', () => {
  const d = judgeSnapshot({
    ...base,
    preRegistration: { registeredAt: '2026-09-16T00:00:00Z', trainingStartedAt: '2026-09-15T08:00:00Z' },
  });
  assert.equal(d.verdict, 'fail');
  assert.match(
    d.reasons[0]!,
    /registered at 2026-09-16T00:00:00Z, after the candidate's training started at 2026-09-15T08:00:00Z/,
  );
});

it('lists missing provenance and digest mismatches together', () => {
  const d = judgeSnapshot({
    ...base,
    missingFields: ['candidate.trainingStartedAt'],
    digestMismatches: ['model x: not found'],
  });
  assert.equal(d.verdict, 'fail');
  assert.deepEqual(d.reasons, [
    'provenance incomplete: missing candidate.trainingStartedAt',
    'digest mismatch: model x: not found',
  ]);
});
