import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeMeasuredBy, measuredBy } from '../../src/judging';

describe('measuredBy: a measurement provenance as fields', () => {
  it('takes source, completeness, mirror coverage and attempt; nothing before sources were named', () => {
    assert.equal(measuredBy({}), undefined);
    assert.deepEqual(measuredBy({ source: 'simulated' }), { source: 'simulated' });
    const completeness = { complete: false, gateways: 3, lagging: 1, waitedMs: 60_000 };
    assert.deepEqual(
      measuredBy({ source: 'gateway-telemetry', completeness, mirror: { coverage: null }, attempt: 4 }),
      { source: 'gateway-telemetry', completeness, mirrorCoverage: null, attempts: 4 },
    );
  });

  it('says an incomplete or unknown window in words', () => {
    const lagging = { complete: false, gateways: 3, lagging: 1, waitedMs: 60_000 };
    assert.equal(
      describeMeasuredBy({ source: 'gateway-telemetry', completeness: lagging, mirrorCoverage: null, attempts: 4 }),
      'gateway-telemetry · window INCOMPLETE (1 of 3 gateways lagging after 60.0 s) · mirror coverage n/a · attempt 4',
    );
    assert.equal(
      describeMeasuredBy({
        source: 'gateway-telemetry',
        completeness: { complete: null, gateways: 0, lagging: 0, waitedMs: 0 },
      }),
      'gateway-telemetry · completeness unknown (no gateway watermarks)',
    );
    assert.equal(describeMeasuredBy({ source: 'simulated' }), 'simulated traffic (source: simulated)');
  });
});
