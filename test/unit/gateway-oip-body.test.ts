/**
 * `readInferBody` (numeric tensors scanned straight into Float64Arrays) against JSON.parse of the whole body:
 * on random bodies, valid and not, the gateway's decoding (validation, feature matrix, case ids) gives the same
 * result or the same refusal with the same reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rowCaseIds, takeCaseIdInput } from '../../src/gateway/case-ids';
import { OipRequestError, parseInferRequest, toFeatureMatrix } from '../../src/gateway/oip';
import { BodyNotJsonError, readInferBody } from '../../src/gateway/oip-body';

const FEATURES = ['x0', 'x1', 'x2'];

/** What the gateway makes of a body: the decoded request or its refusal (status and reason). */
function decode(text: string, scanned: boolean): unknown {
  let body: unknown;
  try {
    body = scanned ? readInferBody(Buffer.from(text, 'utf8'), 0) : JSON.parse(text);
  } catch (err) {
    if (scanned) assert.ok(err instanceof BodyNotJsonError, String(err));
    return { status: 400, error: 'body is not valid JSON' };
  }
  try {
    const parsed = parseInferRequest(body);
    const { request, caseIds } = takeCaseIdInput(parsed);
    const m = toFeatureMatrix(request, FEATURES);
    return {
      id: parsed.id,
      parameters: parsed.parameters,
      names: m.featureNames,
      features: Array.from(m.features),
      rows: m.rows,
      quality: m.quality,
      missing: m.missing ? Array.from(m.missing) : null,
      caseIds: rowCaseIds(parsed.parameters.case_id, caseIds, m.rows),
    };
  } catch (err) {
    if (err instanceof OipRequestError) return { status: 400, error: err.message, issues: err.issues };
    throw err;
  }
}

/** JSON number texts of every form: plain, long, with exponents, -0, out of a double's range. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.float({ noNaN: true, noDefaultInfinity: true, min: -20, max: 20 }).map((x) => x.toFixed(2)),
  fc
    .record({
      neg: fc.boolean(),
      int: fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,18}$/)),
      frac: fc.option(fc.stringMatching(/^[0-9]{1,22}$/), { nil: undefined }),
      exp: fc.option(
        fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 420 })),
        { nil: undefined },
      ),
    })
    .map(
      ({ neg, int, frac, exp }) =>
        `${neg ? '-' : ''}${int}${frac !== undefined ? '.' + frac : ''}${exp ? exp[0] + exp[1] + String(exp[2]) : ''}`,
    ),
);

const space = fc.constantFrom('', ' ', '\n  ', '\t', '\r\n');
/** A case id text, JSON-encoded (quotes, escapes, text that looks like a data list). */
const idText = fc
  .oneof(fc.string({ maxLength: 12 }), fc.constant('"data":[1,2]'), fc.constant('a\\"b'), fc.constant('é✓'))
  .map((s) => JSON.stringify(s));

function list(items: string[], ws: string): string {
  return `[${ws}${items.join(`${ws},${ws}`)}${ws}]`;
}

/** A numeric list's items: mostly numbers, sometimes a null or a nested list (left to JSON.parse). */
const dataItems = (n: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.array(numberText, { minLength: n, maxLength: n }) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.oneof(
          { weight: 20, arbitrary: numberText },
          { weight: 1, arbitrary: fc.constant('null') },
          { weight: 1, arbitrary: fc.array(numberText, { maxLength: 2 }).map((xs) => `[${xs.join(',')}]`) },
        ),
        { minLength: Math.max(0, n - 1), maxLength: n + 1 },
      ),
    },
  );

/** A tensor object's text, keys in a random order, sometimes an extra key or a parameters object holding "data". */
const tensor = (name: string, rows: number, cols: number) =>
  fc
    .record({
      ws: space,
      datatype: fc.oneof(
        { weight: 8, arbitrary: fc.constant('FP32') },
        { weight: 1, arbitrary: fc.constantFrom('FP64', 'BYTES', 'BOOL') },
      ),
      items: dataItems(rows * cols),
      order: fc.constantFrom(0, 1, 2),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant('') },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            ',"parameters":{"data":[1,2]}',
            ',"note":"\\"data\\":[3]"',
            ',"data":[9]',
            ',"dat\\u0061":[]',
          ),
        },
      ),
    })
    .map(({ ws, datatype, items, order, extra }) => {
      const shape = cols === 1 ? `[${rows}]` : `[${rows},${ws}${cols}]`;
      const parts = [`"name":${ws}${JSON.stringify(name)}`, `"shape":${shape}`, `"datatype":"${datatype}"`];
      parts.splice(order, 0, `"data":${ws}${list(items, ws)}`);
      return `{${ws}${parts.join(`,${ws}`)}${extra}${ws}}`;
    });

const body = fc.integer({ min: 1, max: 40 }).chain((rows) =>
  fc
    .record({
      ws: space,
      layout: fc.constantFrom('matrix', 'columns'),
      matrix: tensor('features', rows, FEATURES.length),
      columns: fc.tuple(...FEATURES.map((f) => tensor(f, rows, 1))),
      ids: fc.option(fc.array(idText, { minLength: rows, maxLength: rows }), { nil: undefined }),
      id: fc.option(idText, { nil: undefined }),
      site: fc.option(idText, { nil: undefined }),
    })
    .map(({ ws, layout, matrix, columns, ids, id, site }) => {
      const inputs = layout === 'matrix' ? [matrix] : [...columns];
      if (ids) inputs.push(`{"name":"case_id","shape":[${rows}],"datatype":"BYTES","data":${list(ids, ws)}}`);
      const params = `{"case_id":"req-1"${site ? `,"site":${site}` : ''}}`;
      return `{${ws}${id ? `"id":${id},` : ''}"parameters":${ws}${params},${ws}"inputs":${ws}${list(inputs, ws)}${ws}}`;
    }),
);

/** A valid body broken (or not) by a small edit: truncated, a character inserted, deleted or replaced. */
const edited = fc
  .tuple(
    body,
    fc.nat(),
    fc.constantFrom('truncate', 'insert', 'delete', 'replace'),
    fc.constantFrom(',', ']', '}', '"', '0', '-', '.', 'e', ' ', '[', 'x', '1'),
  )
  .map(([text, at, how, c]) => {
    const i = at % (text.length + 1);
    if (how === 'truncate') return text.slice(0, i);
    if (how === 'insert') return text.slice(0, i) + c + text.slice(i);
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + c + text.slice(i + 1);
  });

describe('readInferBody: numeric tensors scanned, the same result as JSON.parse', () => {
  it('the same decoded request, or the same refusal, on random bodies', () => {
    fc.assert(
      fc.property(body, (text) => assert.deepEqual(decode(text, true), decode(text, false))),
      { numRuns: 3000 },
    );
  });

  it('the same refusal with the same reason on broken bodies', () => {
    fc.assert(
      fc.property(edited, (text) => assert.deepEqual(decode(text, true), decode(text, false))),
      { numRuns: 3000 },
    );
  });

  it('every scanned value is the double JSON.parse gives (before the float32 of the feature matrix)', () => {
    let scanned = 0;
    fc.assert(
      fc.property(body, (text) => {
        let got: { inputs: Array<{ data: unknown }> };
        try {
          got = readInferBody(Buffer.from(text, 'utf8'), 0) as typeof got;
        } catch {
          return;
        }
        const want = JSON.parse(text) as typeof got;
        got.inputs.forEach((t, i) => {
          if (!(t.data instanceof Float64Array)) return;
          scanned++;
          assert.deepEqual(Array.from(t.data), want.inputs[i]!.data);
        });
      }),
      { numRuns: 3000 },
    );
    assert.ok(scanned > 1000, `${scanned} lists scanned`); // the scanner, not the fallback, was exercised
  });

  it('malformed numbers are refused as JSON.parse refuses them', () => {
    const bad = [
      '1.',
      '1e',
      '1e+',
      '-',
      '+1',
      '01',
      '-01',
      '.5',
      '1.e5',
      '--1',
      '0x10',
      'NaN',
      'Infinity',
      '1_0',
      '١',
      '1 2',
      '1,',
      ',1',
    ];
    for (const x of bad) {
      const text = `{"parameters":{"case_id":"r"},"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[0.5,${x},2]}]}`;
      assert.deepEqual(decode(text, true), decode(text, false), x);
      assert.deepEqual(decode(text, true), { status: 400, error: 'body is not valid JSON' }, x);
    }
  });

  it('scans the numbers of a plain batch into Float64Arrays (the case the gateway is fast for)', () => {
    const text = JSON.stringify({
      parameters: { case_id: 'r' },
      inputs: [{ name: 'features', shape: [2, 3], datatype: 'FP32', data: [0.1, -2, 3e-7, 1.5, 0, -0.25] }],
    });
    const b = readInferBody(Buffer.from(text), 0) as { inputs: Array<{ data: unknown }> };
    assert.ok(b.inputs[0]!.data instanceof Float64Array);
    assert.deepEqual(Array.from(b.inputs[0]!.data as Float64Array), [0.1, -2, 3e-7, 1.5, 0, -0.25]);
    // Below the size threshold the body is JSON.parse'd whole.
    assert.ok(
      Array.isArray((readInferBody(Buffer.from(text)) as { inputs: Array<{ data: unknown }> }).inputs[0]!.data),
    );
  });

  it('numbers round as JSON.parse rounds them (halfway cases, long mantissas, exponents at the fast path edges)', () => {
    const texts = [
      '0.1',
      '0.3',
      '9007199254740993',
      '123456789012345',
      '1234567890123456',
      '1e22',
      '1e23',
      '1e-22',
      '1e-23',
      '2.2250738585072011e-308',
      '4.9e-324',
      '1.7976931348623157e308',
      '0.000000000000000000001',
      '-0.0',
      '5e-1',
      '999999999999999.9',
      '0.1e1',
      '100e-2',
    ];
    const text = `{"parameters":{"case_id":"r"},"inputs":[{"name":"v","shape":[${texts.length}],"datatype":"FP64","data":[${texts.join(',')}]}]}`;
    const b = readInferBody(Buffer.from(text), 0) as { inputs: Array<{ data: Float64Array }> };
    assert.ok(b.inputs[0]!.data instanceof Float64Array);
    assert.deepEqual(
      Array.from(b.inputs[0]!.data),
      texts.map((t) => JSON.parse(t) as number),
    );
  });
});
