import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inCanaryArm } from '../../src/sim/canary-arm';
import {
  assign,
  caseBucket,
  fromRouteState,
  GatewayRouteTableSchema,
  inferResponse,
  inferResponseText,
  InferRequestSchema,
  OipRequestError,
  parseInferRequest,
  toFeatureMatrix,
  type GatewayRouteTable,
} from '../../src/gateway';

const M = 'sepsis-alert';

const table = (over: Partial<GatewayRouteTable> = {}): GatewayRouteTable =>
  GatewayRouteTableSchema.parse({ version: 1, production: '1.4.0', canary: { model: '2.0.0', percent: 10 }, ...over });

describe('gateway routing', () => {
  it('assigns the same case id to the same arm every time, as the simulated canary does', () => {
    const t = table();
    for (let i = 0; i < 2000; i++) {
      const id = `case-${i}`;
      const a = assign(t, id, {}, M);
      assert.deepEqual(assign(t, id, {}, M), a);
      assert.equal(a.route === 'canary', inCanaryArm(id, 10, M), id);
      assert.equal(a.modelVersion, a.route === 'canary' ? '2.0.0' : '1.4.0');
    }
  });

  it('sends the stated percentage to the canary (100,000 ids, within ±0.5 points)', () => {
    for (const percent of [1, 10, 50]) {
      const t = table({ canary: { model: '2.0.0', percent } });
      let canary = 0;
      for (let i = 0; i < 100_000; i++) if (assign(t, `patient-${i}`, {}, M).route === 'canary') canary++;
      assert.ok(Math.abs(canary / 1000 - percent) < 0.5, `${percent}% asked, ${canary / 1000}% routed`);
    }
  });

  it('keeps a canary case on the canary as the percentage grows', () => {
    for (let i = 0; i < 5000; i++) {
      const id = `c${i}`;
      if (assign(table({ canary: { model: '2.0.0', percent: 5 } }), id, {}, M).route === 'canary') {
        assert.equal(assign(table({ canary: { model: '2.0.0', percent: 25 } }), id, {}, M).route, 'canary');
      }
    }
  });

  it('applies cohort rules before the percentage (all rules must match; a missing attribute does not match "in")', () => {
    const t = table({
      canary: {
        model: '2.0.0',
        percent: 100,
        cohort: [
          { attribute: 'site', in: ['site-a', 'site-b'] },
          { attribute: 'urgency', notIn: ['stat'] },
        ],
      },
    });
    // no urgency: the notIn rule fails closed (issue #22)
    assert.equal(assign(t, 'x', { site: 'site-a' }, M).route, 'production');
    assert.equal(assign(t, 'x', { site: 'site-b', urgency: 'routine' }, M).route, 'canary');
    assert.equal(assign(t, 'x', { site: 'site-c' }, M).route, 'production');
    assert.equal(assign(t, 'x', { site: 'site-a', urgency: 'stat' }, M).route, 'production');
    assert.equal(assign(t, 'x', {}, M).route, 'production');
    assert.throws(() =>
      GatewayRouteTableSchema.parse({
        version: 1,
        production: 'a',
        canary: { model: 'b', percent: 1, cohort: [{ attribute: 'site' }] },
      }),
    );
  });

  it('mirrors to the shadow version, never to the version that already answered', () => {
    const t = table({ canary: null, shadow: { model: '2.0.0', percent: 100 } });
    assert.deepEqual(assign(t, 'a', {}, M), { route: 'production', modelVersion: '1.4.0', shadow: '2.0.0' });
    const both = table({ canary: { model: '2.0.0', percent: 100 }, shadow: { model: '2.0.0', percent: 100 } });
    assert.equal(assign(both, 'a', {}, M).shadow, null);
    const share = table({ canary: null, shadow: { model: '2.0.0', percent: 20 } });
    let mirrored = 0;
    for (let i = 0; i < 20_000; i++) if (assign(share, `s${i}`, {}, M).shadow) mirrored++;
    assert.ok(Math.abs(mirrored / 200 - 20) < 1.5, `${mirrored / 200}%`);
  });

  it('reads the workflow RouteState as a table and puts buckets in [0, 100)', () => {
    assert.deepEqual(fromRouteState({ version: 3, production: '1.4.0', canary: null }), {
      version: 3,
      production: '1.4.0',
      canary: null,
    });
    for (let i = 0; i < 1000; i++) {
      const b = caseBucket(String(i));
      assert.ok(b >= 0 && b < 100);
    }
  });
});

describe('OIP request fast path and response text', () => {
  const FEATURES = ['x0', 'x1', 'x2'];
  const good = (): Record<string, unknown> => ({
    id: 'r1',
    parameters: { case_id: 'c-1', site: 'a', urgent: true, age: 71 },
    inputs: FEATURES.map((f, k) => ({ name: f, shape: [1], datatype: 'FP32', data: [k / 2] })),
  });
  const variants: Array<[string, (b: Record<string, unknown>) => unknown]> = [
    ['valid', (b) => b],
    [
      'valid 2-D',
      (b) => ({
        ...b,
        inputs: [
          {
            name: 'input',
            shape: [2, 3],
            datatype: 'FP32',
            parameters: { feature_names: FEATURES },
            data: [
              [1, 2, 3],
              [4, null, 6],
            ],
          },
        ],
      }),
    ],
    ['valid outputs', (b) => ({ ...b, outputs: [{ name: 'score' }] })],
    ['array body', () => []],
    ['null body', () => null],
    ['no case id', (b) => ({ ...b, parameters: { site: 'a' } })],
    ['empty case id', (b) => ({ ...b, parameters: { case_id: '' } })],
    ['object parameter', (b) => ({ ...b, parameters: { case_id: 'c', nested: { a: 1 } } })],
    ['null parameter', (b) => ({ ...b, parameters: { case_id: 'c', x: null } })],
    ['long id', (b) => ({ ...b, id: 'x'.repeat(257) })],
    ['numeric id', (b) => ({ ...b, id: 5 })],
    ['no inputs', (b) => ({ ...b, inputs: [] })],
    ['bad datatype', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [1], datatype: 'FP8', data: [1] }] })],
    ['negative shape', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [-1], datatype: 'FP32', data: [1] }] })],
    ['fractional shape', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [1.5], datatype: 'FP32', data: [1] }] })],
    ['empty shape', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [], datatype: 'FP32', data: [1] }] })],
    ['string data', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [1], datatype: 'FP32', data: ['1'] }] })],
    ['infinite data', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [1], datatype: 'FP32', data: [Infinity] }] })],
    ['deep data', (b) => ({ ...b, inputs: [{ name: 'x0', shape: [1], datatype: 'FP32', data: [[[1]]] }] })],
    ['empty name', (b) => ({ ...b, inputs: [{ name: '', shape: [1], datatype: 'FP32', data: [1] }] })],
    [
      'array tensor parameters',
      (b) => ({ ...b, inputs: [{ name: 'x0', shape: [1], datatype: 'FP32', parameters: [1], data: [1] }] }),
    ],
    ['bad outputs', (b) => ({ ...b, outputs: [{ nom: 'score' }] })],
  ];

  it("accepts and refuses exactly what the zod schema does, with zod's issues on refusal", () => {
    for (const [label, make] of variants) {
      const body = make(good());
      const expected = InferRequestSchema.safeParse(body);
      let got: unknown;
      let error: unknown;
      try {
        got = parseInferRequest(body);
      } catch (e) {
        error = e;
      }
      if (expected.success) {
        assert.equal(error, undefined, label);
        assert.deepEqual(got, expected.data, label);
      } else {
        assert.ok(error instanceof OipRequestError, label);
        assert.deepEqual(
          error.issues,
          expected.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
          label,
        );
      }
    }
  });

  it('feature matrix: inputs in any order, quality flags in order of first occurrence', () => {
    const b = good();
    const reordered = parseInferRequest({ ...b, inputs: [...(b.inputs as unknown[])].reverse() });
    const inOrder = parseInferRequest(b);
    assert.deepEqual(toFeatureMatrix(reordered, FEATURES), toFeatureMatrix(inOrder, FEATURES));
    const flagged = parseInferRequest({
      parameters: { case_id: 'c' },
      inputs: [
        { name: 'x0', shape: [2], datatype: 'FP32', data: [50, 1] },
        { name: 'x1', shape: [2, 1], datatype: 'FP32', data: [[null], [0]] },
        { name: 'x2', shape: [2], datatype: 'FP64', data: [0, 0] },
      ],
    });
    const m = toFeatureMatrix(flagged, FEATURES);
    assert.deepEqual(m.quality, ['out_of_range', 'missing_value']);
    assert.deepEqual([...m.features], [50, 0, 0, 1, 0, 0]);
    assert.throws(
      () =>
        toFeatureMatrix(
          parseInferRequest({
            parameters: { case_id: 'c' },
            inputs: [
              { name: 'x0', shape: [1], datatype: 'FP32', data: [1] },
              { name: 'x0', shape: [1], datatype: 'FP32', data: [1] },
              { name: 'x1', shape: [1], datatype: 'FP32', data: [1] },
            ],
          }),
          FEATURES,
        ),
      /unique/,
    );
    assert.throws(
      () =>
        toFeatureMatrix(
          parseInferRequest({
            parameters: { case_id: 'c' },
            inputs: [{ name: 'x0', shape: [2], datatype: 'FP32', data: [1] }],
          }),
          ['x0'],
        ),
      /needs 2 values/,
    );
  });

  it('inferResponseText is the JSON text of inferResponse', () => {
    const scores = Float64Array.from([0.30794370174407959, 0.5, 1e-7, Number.NaN]);
    for (const a of [
      { model: 'm', version: '1.0.0', id: undefined, route: 'production', routeVersion: 3, scores, threshold: 0.5 },
      {
        model: 'm"é',
        version: 'v\n',
        id: 'req "1"',
        route: 'direct',
        routeVersion: 0,
        scores: scores.subarray(0, 1),
        threshold: undefined,
      },
      { model: 'm', version: '1', id: '', route: 'canary', routeVersion: 1, scores: new Float64Array(0), threshold: 0 },
    ]) {
      assert.equal(inferResponseText(a), JSON.stringify(inferResponse(a)));
    }
  });
});
