import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPatientId, labelProxies, LeakageInputError, leakageVerdict, patientOverlap } from '../../src/leakage';

const key = 'test-key';
const hashed = (ids: string[]) => ids.map((id) => hashPatientId(id, key));

describe('patientOverlap', () => {
  it('finds patients in both splits and quotes only hashes', () => {
    const [f] = patientOverlap(hashed(['p1', 'p2', 'p3']), hashed(['p3', 'p4', 'p1', 'p1']));
    assert.equal(f?.check, 'patient-overlap');
    assert.equal(f?.count, 2);
    assert.deepEqual(f?.examples, hashed(['p3', 'p1']));
    assert.doesNotMatch(JSON.stringify(f), /"p[0-9]"/);
  });

  it('finds nothing when the splits are disjoint', () => {
    assert.deepEqual(patientOverlap(hashed(['p1']), hashed(['p2'])), []);
  });

  it('refuses raw ids, so they never reach a report', () => {
    assert.throws(() => patientOverlap(['p1'], hashed(['p1'])), LeakageInputError);
  });

  it('the keyed hash depends on the key', () => {
    assert.notEqual(hashPatientId('p1', 'a'), hashPatientId('p1', 'b'));
  });
});

describe('labelProxies (single features)', () => {
  const labels = Uint8Array.of(0, 0, 0, 0, 1, 1, 1, 1);
  // columns: honest (overlapping classes), leak (perfectly separates), inverted leak
  const rows = [
    [0.1, 10, 5],
    [0.9, 11, 6],
    [0.4, 12, 7],
    [0.3, 13, 8],
    [0.2, 20, 1],
    [0.8, 21, 2],
    [0.7, 22, 3],
    [0.6, 23, 4],
  ];
  const features = Float32Array.from(rows.flat());

  it('flags a feature that alone separates the classes, in either direction, and not an honest one', () => {
    const found = labelProxies({ featureNames: ['honest', 'post_outcome', 'inverted'], features, labels });
    assert.deepEqual(
      found.map((f) => [f.feature, f.auc]),
      [
        ['post_outcome', 1],
        ['inverted', 1],
      ],
    );
    assert.match(found[0]!.reason, /"post_outcome" alone perfectly separates the classes/);
  });

  it('flags a near-determining feature at the AUC limit', () => {
    // 100 negatives at 0..99, 100 positives at 1..100 shifted so exactly one pair is misordered
    const n = 100;
    const x = new Float32Array(2 * n);
    const y = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      x[i] = i;
      x[n + i] = n + i;
      y[n + i] = 1;
    }
    x[n] = 50; // one positive among the negatives: AUC just under 1
    const [f] = labelProxies({ featureNames: ['lab'], features: x, labels: y });
    assert.ok(f && f.auc! < 1 && f.auc! >= 0.99, `auc ${f?.auc}`);
    assert.match(f.reason, /AUC 0\.99\d\d/);
    // The bound, not the estimate, must reach the bar: 200 rows cannot show AUC ≥ 0.9999.
    assert.deepEqual(labelProxies({ featureNames: ['lab'], features: x, labels: y }, 0.9999), []);
  });

  it('refuses mismatched lengths', () => {
    assert.throws(
      () => labelProxies({ featureNames: ['a', 'b'], features: Float32Array.of(1, 2, 3), labels: Uint8Array.of(0, 1) }),
      LeakageInputError,
    );
  });
});

describe('leakageVerdict', () => {
  it('fails on any finding and passes only when checks ran and found nothing', () => {
    const findings = patientOverlap(hashed(['p1']), hashed(['p1']));
    assert.equal(leakageVerdict(['patient-overlap', 'duplicate-rows'], findings).verdict, 'fail');
    assert.match(leakageVerdict(['patient-overlap'], findings).summary, /leakage detected: patient-overlap \(1\)/);
    assert.equal(leakageVerdict(['patient-overlap', 'duplicate-rows', 'single-feature'], []).verdict, 'pass');
    assert.throws(() => leakageVerdict([], []), /no leakage check ran/);
  });
});
