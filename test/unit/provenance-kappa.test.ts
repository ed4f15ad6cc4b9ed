import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agreementFromLabels,
  cohensKappa,
  cohensKappaFromTable,
  fleissKappa,
  KappaError,
  type RaterLabel,
} from '../../src/stats/kappa';

const close = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

// Worked example reproduced on Wikipedia's "Fleiss' kappa" page (14 raters, 10 subjects, 5 categories),
// in the style of Fleiss (1971): P̄ = 0.378, P̄e = 0.213, κ = 0.210 (rounded to 3 dp there).
const FLEISS_TABLE = [
  [0, 0, 0, 0, 14],
  [0, 2, 6, 4, 2],
  [0, 0, 3, 5, 6],
  [0, 3, 9, 2, 0],
  [2, 2, 8, 1, 1],
  [7, 7, 0, 0, 0],
  [3, 2, 6, 3, 0],
  [2, 5, 3, 2, 2],
  [6, 5, 2, 1, 0],
  [0, 2, 2, 3, 7],
];

describe("Fleiss' kappa", () => {
  it('reproduces the published worked example', () => {
    const r = fleissKappa(FLEISS_TABLE);
    close(r.observedAgreement, 0.378, 0.0005, 'P̄');
    close(r.expectedAgreement, 0.213, 0.0005, 'P̄e');
    close(r.kappa, 0.21, 0.0005, 'κ');
    // Column proportions p_j from the same page: 0.143, 0.200, 0.279, 0.150, 0.229.
    assert.equal(r.subjects, 10);
    assert.ok(r.standardError > 0 && r.standardError < 0.1);
  });

  it('is 1 for perfect agreement and refuses inconsistent rating counts or a single category', () => {
    assert.equal(
      fleissKappa([
        [3, 0],
        [0, 3],
        [3, 0],
      ]).kappa,
      1,
    );
    assert.throws(
      () =>
        fleissKappa([
          [3, 0],
          [0, 2],
        ]),
      KappaError,
    );
    assert.throws(() => fleissKappa([[3], [3]]), /undefined/);
    assert.throws(() => fleissKappa([[1, 0]]), /at least two ratings/);
  });
});

describe("Cohen's kappa", () => {
  it('reproduces the 2×2 textbook example on Wikipedia\'s "Cohen\'s kappa" page (50 proposals: 20/5/10/15 → p_o 0.7, p_e 0.5, κ 0.4)', () => {
    const r = cohensKappaFromTable([
      [20, 5],
      [10, 15],
    ]);
    close(r.observedAgreement, 0.7, 1e-12, 'p_o');
    close(r.expectedAgreement, 0.5, 1e-12, 'p_e');
    close(r.kappa, 0.4, 1e-12, 'κ');
    // Cohen (1960) large-sample SE: sqrt(p_o(1-p_o) / (N (1-p_e)^2)) = sqrt(0.21 / 12.5).
    close(r.standardError, Math.sqrt(0.21 / 12.5), 1e-12, 'SE');
  });

  it('gives the two "same 60% agreement, different κ" examples from the same page (κ 0.1304 and 0.2593)', () => {
    close(
      cohensKappaFromTable([
        [45, 15],
        [25, 15],
      ]).kappa,
      0.1304,
      0.00005,
      'first table',
    );
    close(
      cohensKappaFromTable([
        [25, 35],
        [5, 35],
      ]).kappa,
      0.2593,
      0.00005,
      'second table',
    );
  });

  it('builds the contingency table from paired ratings', () => {
    const a = [
      ...Array(20).fill('yes'),
      ...Array(5).fill('yes'),
      ...Array(10).fill('no'),
      ...Array(15).fill('no'),
    ] as string[];
    const b = [
      ...Array(20).fill('yes'),
      ...Array(5).fill('no'),
      ...Array(10).fill('yes'),
      ...Array(15).fill('no'),
    ] as string[];
    const r = cohensKappa(a, b);
    close(r.kappa, 0.4, 1e-12, 'κ');
    assert.deepEqual(r.categories, ['no', 'yes']);
    assert.throws(() => cohensKappa(['a'], ['a', 'b']), KappaError);
  });
});

describe('agreement from a long-format label file', () => {
  it("uses Cohen's κ for two raters and Fleiss' κ for more", () => {
    const two: RaterLabel[] = [];
    const pairs: [string, string, number][] = [
      ['yes', 'yes', 20],
      ['yes', 'no', 5],
      ['no', 'yes', 10],
      ['no', 'no', 15],
    ];
    let s = 0;
    for (const [a, b, n] of pairs) {
      for (let i = 0; i < n; i++, s++)
        two.push({ subject: `s${s}`, rater: 'A', label: a }, { subject: `s${s}`, rater: 'B', label: b });
    }
    const cohen = agreementFromLabels(two);
    assert.equal(cohen.method, 'cohen');
    close(cohen.kappa, 0.4, 1e-12, 'κ');

    const many: RaterLabel[] = [];
    FLEISS_TABLE.forEach((row, subject) => {
      let rater = 0;
      row.forEach((count, cat) => {
        for (let i = 0; i < count; i++)
          many.push({ subject: `x${subject}`, rater: `r${rater++}`, label: `c${cat + 1}` });
      });
    });
    const fleiss = agreementFromLabels(many);
    assert.equal(fleiss.method, 'fleiss');
    assert.equal(fleiss.raters, 14);
    close(fleiss.kappa, 0.21, 0.0005, 'κ');
  });

  it('refuses a subject missing a rating, or a rater labelling a subject twice', () => {
    assert.throws(
      () =>
        agreementFromLabels([
          { subject: '1', rater: 'A', label: 'x' },
          { subject: '1', rater: 'B', label: 'x' },
          { subject: '2', rater: 'A', label: 'y' },
        ]),
      /not labelled by both/,
    );
    assert.throws(
      () =>
        agreementFromLabels([
          { subject: '1', rater: 'A', label: 'x' },
          { subject: '1', rater: 'A', label: 'y' },
        ]),
      /more than once/,
    );
  });
});
