/** The gateway's answer written as bytes is the UTF-8 of JSON.stringify(inferResponse(a)), on random answers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inferResponse, inferResponseBytes } from '../../src/gateway/oip';

const answer = fc.record({
  model: fc.string({ maxLength: 8, unit: 'binary' }),
  version: fc.string({ maxLength: 8 }),
  id: fc.option(fc.string({ maxLength: 8, unit: 'grapheme' }), { nil: undefined }),
  route: fc.constantFrom('production', 'canary', 'direct'),
  routeVersion: fc.nat(),
  scores: fc
    .tuple(
      fc.array(
        fc.oneof(
          { weight: 30, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
          { weight: 1, arbitrary: fc.double() },
        ),
        {
          maxLength: 300,
        },
      ),
      fc.nat({ max: 3 }),
    )
    .map(([xs, skip]) => Float64Array.from(xs).subarray(Math.min(skip, xs.length))),
  threshold: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
});

describe('inferResponseBytes', () => {
  it('is the UTF-8 of the JSON text of inferResponse (finite scores, NaN, ±Infinity, -0, non-ASCII names)', () => {
    fc.assert(
      fc.property(answer, (a) => {
        assert.deepEqual(inferResponseBytes(a), Buffer.from(JSON.stringify(inferResponse(a)), 'utf8'));
      }),
      { numRuns: 2000 },
    );
  });
});
