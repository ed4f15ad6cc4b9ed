/**
 * OFFLINE_EVAL as an activity: real readers, scorers, leakage checks and evaluator over an in-memory
 * evidence store. Bad inputs become specific non-retryable failures; thin data is reported, never passed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { EvidencePort } from '../../src/contracts/ports';
import { offlineEvalActivities } from '../../src/activities/offline-eval';
import { labelledSchema, readCsvTable } from '../../src/data';
import { DEMO_CANDIDATE, DEMO_INCUMBENT } from '../../src/demo/artifacts';
import {
  ErrorType,
  ReleasePolicySchema,
  ReleaseRequestSchema,
  type EvidenceRef,
  type ReleasePolicyInput,
  type ReleaseRequest,
} from '../../src/domain';
import { canonicalBytes, sha256Hex } from '../../src/evidence';
import { judgeOffline } from '../../src/judging';
import { loadScorer, logisticToOnnx } from '../../src/models';
import type { SimCase } from '../../src/contracts/traffic';
import { cohortToCsv, FEATURES, generateCohort } from '../../src/sim/cohort';
import { thresholdForSensitivity } from '../../src/stats';
import { validPolicy, validReleaseRequest } from '../support/fixtures';

/** An in-memory, content-addressed EvidencePort that re-hashes on read like the real store. */
function memoryEvidence(): EvidencePort & { blobs: Map<string, Uint8Array> } {
  const blobs = new Map<string, Uint8Array>();
  const put = async (bytes: Uint8Array, mediaType: string): Promise<EvidenceRef> => {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const key = `sha256/${sha256}`;
    blobs.set(key, bytes);
    return { key, sha256, size: bytes.length, mediaType };
  };
  return {
    blobs,
    putBytes: put,
    putJson: (v) => put(Buffer.from(JSON.stringify(v)), 'application/json'),
    putNamed: async (key, v) => {
      const ref = await put(Buffer.from(JSON.stringify(v)), 'application/json');
      blobs.set(key, blobs.get(ref.key)!);
      return { ...ref, key };
    },
    getBytes: async (key, expected) => {
      const b = blobs.get(key);
      if (!b) throw new Error(`not found: ${key}`);
      if (expected && crypto.createHash('sha256').update(b).digest('hex') !== expected)
        throw new Error(`integrity: ${key}`);
      return Buffer.from(b);
    },
  };
}

const POLICY: ReleasePolicyInput = validPolicy({
  offline: {
    attributes: ['site'],
    acceptance: {
      version: 1,
      criteria: [
        { id: 'auc-non-inferior', kind: 'non-inferiority', margin: 0.05, alpha: 0.025 },
        {
          id: 'site-sensitivity',
          kind: 'metric-threshold',
          metric: 'sensitivity',
          op: '>=',
          value: 0.1,
          slices: { attributes: ['site'] },
          minN: 10,
        },
      ],
    },
  },
});

const csv = (cases: SimCase[]) => Buffer.from(cohortToCsv(cases));
const json = (m: object) => Buffer.from(JSON.stringify(m));

interface Setup {
  evaluation?: Uint8Array;
  training?: Uint8Array;
  tuning?: Uint8Array;
  candidate?: { bytes: Uint8Array; format: 'vigil.logistic/v1' | 'onnx' | 'vigil.predictions/v1' };
  policy?: ReleasePolicyInput;
  /** The digest the workflow pinned at SNAPSHOT (default: the request's own policy). */
  policySha256?: string;
}

async function run(setup: Setup = {}) {
  const evidence = memoryEvidence();
  const put = async (b: Uint8Array) => {
    const r = await evidence.putBytes(b, 'application/octet-stream');
    return { key: r.key, sha256: r.sha256 };
  };
  const evaluation = setup.evaluation ?? csv(generateCohort('unit:evaluation', 800));
  const training = setup.training ?? csv(generateCohort('unit:training', 500));
  const candidate = setup.candidate ?? { bytes: json(DEMO_CANDIDATE), format: 'vigil.logistic/v1' as const };
  const request: ReleaseRequest = ReleaseRequestSchema.parse(
    validReleaseRequest({
      candidate: { version: '2.0.0', artifact: await put(candidate.bytes), format: candidate.format },
      incumbent: { version: '1.4.0', artifact: await put(json(DEMO_INCUMBENT)) },
      datasets: [
        { role: 'training', name: 'train', artifact: await put(training) },
        { role: 'evaluation', name: 'eval', artifact: await put(evaluation) },
        ...(setup.tuning ? [{ role: 'tuning' as const, name: 'tune', artifact: await put(setup.tuning) }] : []),
      ],
      policy: setup.policy ?? POLICY,
    }),
  );
  const act = offlineEvalActivities({ evidence });
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const out: Awaited<ReturnType<typeof act.evaluateOffline>> = await env.run(() =>
    act.evaluateOffline({
      releaseId: 'r-1',
      request,
      policySha256: setup.policySha256 ?? sha256Hex(canonicalBytes(request.policyAsWritten)),
      at: '2026-07-01T00:00:00Z',
    }),
  );
  return { ...out, evidence, request };
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(e)}`);
    assert.equal(e.type, ErrorType.InvalidArtifact);
    assert.equal(e.nonRetryable, true);
    return e;
  }
  assert.fail('expected the activity to fail');
}

/** Replace one cell of a CSV (1-based data row, column name). */
function setCell(bytes: Uint8Array, row: number, column: string, value: string): Buffer {
  const lines = Buffer.from(bytes).toString('utf8').split('\n');
  const col = lines[0]!.split(',').indexOf(column);
  const cells = lines[row]!.split(',');
  cells[col] = value;
  lines[row] = cells.join(',');
  return Buffer.from(lines.join('\n'));
}

describe('OFFLINE_EVAL activity', () => {
  it('passes clean demo-like data, with all four leakage checks run and none finding anything', async () => {
    const { measurement, artifacts, evidence } = await run();
    assert.deepEqual(measurement.leakage, {
      verdict: 'pass',
      checks: ['patient-overlap', 'duplicate-rows', 'single-feature', 'feature-pair'],
      findings: [],
      notRun: [],
    });
    assert.equal(measurement.operatingPoint?.candidateThreshold, 0.3);
    assert.equal(judgeOffline(measurement).verdict, 'pass', judgeOffline(measurement).reasons.join('; '));
    const report = JSON.parse(Buffer.from(await evidence.getBytes(artifacts[0]!.key)).toString('utf8'));
    assert.equal(report.kind, 'vigil.offline-eval/v3');
    assert.equal(report.candidate.format, 'vigil.logistic/v1');
    assert.deepEqual(
      report.tables.map((t: { role: string; rows: number }) => [t.role, t.rows]),
      [
        ['evaluation', 800],
        ['training', 500],
      ],
    );
  });

  it('an ONNX candidate scores like its JSON twin on the same float32 rows', async () => {
    const onnx = await run({ candidate: { bytes: logisticToOnnx(DEMO_CANDIDATE), format: 'onnx' } });
    const plain = await run();
    assert.ok(Math.abs(onnx.measurement.candidate.auc! - plain.measurement.candidate.auc!) < 1e-6);
    assert.deepEqual(
      onnx.measurement.criteria.map((c) => c.status),
      plain.measurement.criteria.map((c) => c.status),
    );
  });

  describe('bad input is a specific load-time error, never a pass', () => {
    const evaluation = csv(generateCohort('unit:evaluation', 50));
    const predictions = (rows: [string, string][]) =>
      Buffer.from(`case_id,score\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const ids = generateCohort('unit:evaluation', 50).map((c) => c.caseId);

    it('a NaN score in a prediction file names row and column', async () => {
      const rows = ids.map((id, k): [string, string] => [id, k === 1 ? 'NaN' : '0.5']);
      const e = await failure(
        run({ evaluation, candidate: { bytes: predictions(rows), format: 'vigil.predictions/v1' } }),
      );
      assert.match(
        e.message,
        /^model 2\.0\.0 \(vigil\.predictions\/v1, .*\): prediction file .*row 2, column "score": score is not finite \("NaN"\)/,
      );
    });

    it('a prediction file that does not cover the rows (length mismatch) is refused', async () => {
      const rows = ids.slice(0, -1).map((id): [string, string] => [id, '0.5']);
      const e = await failure(
        run({ evaluation, candidate: { bytes: predictions(rows), format: 'vigil.predictions/v1' } }),
      );
      assert.match(e.message, /1 evaluation case\(s\) have no score, e\.g\. "unit:evaluation:49"/);
    });

    it('a label outside {0,1} names row and column', async () => {
      const e = await failure(run({ evaluation: setCell(evaluation, 3, 'label', '2') }));
      assert.match(
        e.message,
        /^evaluation split \(csv\): dataset eval: row 3, column "label": label must be 0 or 1, got "2"/,
      );
    });

    it('an infinite feature value names row and column', async () => {
      const e = await failure(run({ evaluation: setCell(evaluation, 7, 'x2', 'inf') }));
      assert.match(e.message, /row 7, column "x2": value is not finite/);
    });

    it('a policy naming an unknown attribute or metric fails when the policy is loaded', () => {
      const unknownAttr = validPolicy({
        offline: {
          attributes: ['site'],
          acceptance: {
            version: 1,
            criteria: [{ kind: 'max-drop', metric: 'auc', maxDrop: 0.1, slices: { attributes: ['ward'] } }],
          },
        },
      });
      const a = ReleasePolicySchema.safeParse(unknownAttr);
      assert.ok(!a.success);
      assert.match(a.error.issues[0]!.message, /unknown attribute "ward"; declared in offline\.attributes: site/);
      const unknownMetric = validPolicy({
        offline: {
          attributes: [],
          acceptance: {
            version: 1,
            criteria: [{ kind: 'metric-threshold', metric: 'f1' as 'auc', op: '>=', value: 0.5 }],
          },
        },
      });
      assert.ok(!ReleasePolicySchema.safeParse(unknownMetric).success);
    });

    it('a declared attribute the evaluation data lacks is a missing-column error naming it', async () => {
      const policy = validPolicy({ offline: { ...POLICY.offline, attributes: ['site', 'ward'] } });
      const e = await failure(run({ evaluation, policy }));
      assert.match(e.message, /dataset eval: missing required column "ward"/);
    });
  });

  it('a single-class slice is reported as undefined / insufficient data and the criterion does not pass', async () => {
    const cases = generateCohort('unit:evaluation', 800).map((c) =>
      c.site === 'site-d' ? { ...c, label: 0 as const } : c,
    );
    const { measurement } = await run({ evaluation: csv(cases) });
    const site = measurement.criteria.find((c) => c.id === 'site-sensitivity')!;
    assert.equal(site.status, 'insufficient');
    assert.deepEqual(site.failingSlices, ['site=site-d']);
    assert.match(
      site.reason,
      /insufficient data on site=site-d \(n=\d+\): sensitivity is undefined \(undefined: denominator is 0/,
    );
    const decision = judgeOffline(measurement);
    assert.equal(decision.verdict, 'fail');
    assert.match(decision.reasons.join('; '), /site-sensitivity: insufficient data on site=site-d/);
  });

  describe('leakage fails the gate, naming the leak', () => {
    it('evaluation rows copied into training: duplicate rows and shared patients', async () => {
      const ev = generateCohort('unit:evaluation', 800);
      const training = [
        ...generateCohort('unit:training', 500),
        ...ev.slice(0, 40).map((c) => ({ ...c, caseId: `copy-${c.caseId}` })),
      ];
      const { measurement, evidence, artifacts } = await run({ evaluation: csv(ev), training: csv(training) });
      assert.equal(measurement.leakage?.verdict, 'fail');
      assert.deepEqual(
        measurement.leakage?.findings.map((f) => f.check),
        ['patient-overlap', 'duplicate-rows'],
      );
      const decision = judgeOffline(measurement);
      assert.equal(decision.verdict, 'fail');
      assert.match(
        decision.reasons[0]!,
        /^leakage \(patient-overlap\): 40 patient\(s\) appear in both the training and the evaluation data/,
      );
      assert.match(
        decision.reasons[1]!,
        /^leakage \(duplicate-rows\): 40 evaluation row\(s\) have exactly the same feature values as a training row/,
      );
      // Evidence quotes hashed patient ids only.
      const report = Buffer.from(await evidence.getBytes(artifacts[0]!.key)).toString('utf8');
      assert.doesNotMatch(report, /:patient:/);
      assert.match(report, /"check":"patient-overlap","count":40,"examples":\["[0-9a-f]{64}"/);
    });

    it('a feature that alone determines the label', async () => {
      const ev = generateCohort('unit:evaluation', 800).map((c) => ({
        ...c,
        features: c.features.map((v, k) => (k === 6 ? c.label + v * 0.01 : v)),
      }));
      const { measurement } = await run({ evaluation: csv(ev) });
      assert.deepEqual(
        measurement.leakage?.findings.map((f) => f.check),
        ['single-feature'],
      );
      assert.match(
        judgeOffline(measurement).reasons[0]!,
        /^leakage \(single-feature\): feature "x6" alone perfectly separates the classes/,
      );
    });
  });

  describe('operating point chosen on the tuning split, then locked', () => {
    const tuningPolicy = validPolicy({
      ...POLICY,
      operatingPoint: { kind: 'max-specificity-at-sensitivity', minSensitivity: 0.8 },
    });

    it('requires a dataset with role tuning (schema-level)', () => {
      const r = ReleaseRequestSchema.safeParse(validReleaseRequest({ policy: tuningPolicy }));
      assert.ok(!r.success);
      assert.match(r.error.issues.map((i) => i.message).join('; '), /a dataset with role "tuning" is required/);
    });

    it('uses the tuning rows only: the locked threshold differs from what the evaluation rows would give', async () => {
      // Tuning cases whose x0 (weighted positively) is lower: scores run lower, so sensitivity 0.8 is reached lower.
      const tuningCases = generateCohort('unit:tuning', 600).map((c) => ({
        ...c,
        features: c.features.map((v, k) => (k === 0 ? v - 1.5 : v)),
      }));
      const evaluation = csv(generateCohort('unit:evaluation', 800));
      const tuning = csv(tuningCases);
      const { measurement } = await run({ evaluation, tuning, policy: tuningPolicy });

      const scoresOf = async (bytes: Uint8Array) => {
        const table = readCsvTable(bytes, labelledSchema(FEATURES, { extraColumns: 'ignore' }), 't');
        const scorer = await loadScorer(json(DEMO_CANDIDATE), 'c.json');
        return { scores: await scorer.score(table), labels: table.labels };
      };
      const t = await scoresOf(tuning);
      const e = await scoresOf(evaluation);
      const onTuning = thresholdForSensitivity(t.scores, t.labels, 0.8).threshold;
      const onEvaluation = thresholdForSensitivity(e.scores, e.labels, 0.8).threshold;
      assert.ok(
        Math.abs(onTuning - onEvaluation) > 0.05,
        `the fixture must separate the two (${onTuning} vs ${onEvaluation})`,
      );
      assert.equal(measurement.operatingPoint?.candidateThreshold, onTuning);
      assert.match(measurement.operatingPoint!.rule, /on the tuning split/);
      // The counts in the history are taken at the locked threshold on the evaluation rows.
      const alerts = e.scores.filter((s) => s >= onTuning).length;
      assert.equal(measurement.candidate.atThreshold.alerts, alerts);
    });

    it('a single-class tuning split is a clear error, not a silently chosen threshold', async () => {
      const tuning = csv(generateCohort('unit:tuning', 200).map((c) => ({ ...c, label: 0 as const })));
      const e = await failure(run({ tuning, policy: tuningPolicy }));
      assert.match(e.message, /tuning split needs both classes to choose a threshold \(positives=0, negatives=200\)/);
    });

    it('tuning rows shared with the evaluation split are a leak', async () => {
      const ev = generateCohort('unit:evaluation', 800);
      const { measurement } = await run({
        evaluation: csv(ev),
        tuning: csv(ev.slice(0, 300).map((c) => ({ ...c, caseId: `t-${c.caseId}` }))),
        policy: tuningPolicy,
      });
      assert.equal(measurement.leakage?.verdict, 'fail');
      assert.match(
        judgeOffline(measurement).reasons.join('\n'),
        /tuning tune vs evaluation: 300 patient\(s\) appear in both the tuning and the evaluation data/,
      );
    });
  });
  it('refuses to judge against a policy whose digest differs from the one pinned at SNAPSHOT', async () => {
    await assert.rejects(run({ policySha256: 'f'.repeat(64) }), (e: unknown) => {
      assert.ok(e instanceof ApplicationFailure && e.nonRetryable);
      assert.equal(e.type, ErrorType.DigestMismatch);
      assert.match(e.message, /differs from f{64} pinned at SNAPSHOT/);
      return true;
    });
  });
});

describe('OFFLINE_EVAL leakage policy (issue #22)', () => {
  it('reads the site column of every split for a declared site held-out design, and fails naming the sites', async () => {
    const { measurement } = await run({
      policy: { ...POLICY, offline: { ...POLICY.offline, leakage: { siteColumn: 'site', siteHeldOut: true } } },
    });
    assert.equal(measurement.leakage?.verdict, 'fail');
    assert.ok(measurement.leakage?.checks.includes('site-held-out'));
    const decision = judgeOffline(measurement);
    assert.equal(decision.verdict, 'fail');
    assert.match(
      decision.reasons[0]!,
      /^leakage \(site-held-out\): 4 evaluation site\(s\) \(site: site-a, site-b, site-c, site-d\) also appear in the training split/,
    );
  });
});
