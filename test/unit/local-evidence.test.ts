import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvidenceConflictError, EvidenceIntegrityError, EvidenceNotFoundError } from '../../src/evidence';
import { LocalEvidence } from '../../src/release-files/local-evidence';

describe('LocalEvidence keeps the evidence store contract', () => {
  it('named keys are create-only: the same value again is fine, a different one is a conflict', async () => {
    const e = new LocalEvidence();
    const first = await e.putNamed('releases/r/chain/000000', { seq: 0 });
    assert.deepEqual(await e.putNamed('releases/r/chain/000000', { seq: 0 }), first);
    await assert.rejects(e.putNamed('releases/r/chain/000000', { seq: 1 }), EvidenceConflictError);
    assert.deepEqual(JSON.parse(e.objects.get('releases/r/chain/000000')!.toString('utf8')), { seq: 0 });
  });

  it('reads check the digest and name a missing key', async () => {
    const e = new LocalEvidence();
    const ref = await e.putBytes(new TextEncoder().encode('abc'), 'text/plain');
    assert.equal(Buffer.from(await e.getBytes(ref.key, ref.sha256)).toString(), 'abc');
    await assert.rejects(e.getBytes(ref.key, '0'.repeat(64)), EvidenceIntegrityError);
    await assert.rejects(e.getBytes('sha256/none'), EvidenceNotFoundError);
  });
});
