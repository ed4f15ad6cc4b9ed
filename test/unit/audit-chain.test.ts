/** The chain verifier on in-memory evidence: every kind of tampering is found and named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainKey } from '../../src/contracts/evidence-keys';
import { MemoryEvidenceReader, verifyChain, nestedRefs, type Finding } from '../../src/audit';
import type { ChainEntry, EvidenceRef } from '../../src/domain';
import { canonicalBytes, contentKey, sha256Hex } from '../../src/evidence';

const RELEASE = 'sepsis-alert-abc-def-1';

/** A finished release's evidence: 4 chain entries, each with one JSON artifact; the first references a model blob. */
function fixture() {
  const objects = new Map<string, Uint8Array>();
  const put = (value: unknown): EvidenceRef => {
    const bytes = canonicalBytes(value);
    const sha256 = sha256Hex(bytes);
    objects.set(contentKey(sha256), bytes);
    return { key: contentKey(sha256), sha256, size: bytes.length, mediaType: 'application/json' };
  };
  const modelBytes = Buffer.from('{"kind":"model","w":[1,2,3]}');
  const model = { key: contentKey(sha256Hex(modelBytes)), sha256: sha256Hex(modelBytes) };
  objects.set(model.key, modelBytes);
  const stages = ['SNAPSHOT', 'OFFLINE_EVAL', 'SHADOW', 'REJECTED'];
  let prev: string | null = null;
  const artifacts: EvidenceRef[] = [];
  stages.forEach((stage, seq) => {
    const artifact = put({
      kind: `vigil.${stage.toLowerCase()}/v1`,
      seq,
      ...(seq === 0 ? { candidate: { artifact: model } } : {}),
    });
    artifacts.push(artifact);
    const entry: ChainEntry = {
      releaseId: RELEASE,
      seq,
      stage,
      step: null,
      prevEntryDigest: prev,
      artifacts: [artifact],
      decision: { verdict: seq === 3 ? 'fail' : 'pass', reasons: [`${stage} decided`] },
      at: `2026-01-01T00:00:0${seq}.000Z`,
    };
    const bytes = canonicalBytes(entry);
    objects.set(chainKey(RELEASE, seq), bytes);
    prev = sha256Hex(bytes);
  });
  return { objects, artifacts, model, head: { seq: 3, digest: prev! } };
}

const problems = (fs: Finding[]) => fs.map((f) => `${f.key ?? ''}: ${f.problem}`);

describe('evidence chain verification', () => {
  it('passes an intact chain, following refs inside JSON artifacts', async () => {
    const { objects, head } = fixture();
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE, { expectedHead: head });
    assert.deepEqual([v.chainFindings, v.artifactFindings], [[], []]);
    assert.equal(v.entries.length, 4);
    assert.deepEqual(v.head, head);
    assert.equal(v.artifactsChecked, 5, '4 stage artifacts + the model referenced by the snapshot');
  });

  it('names an artifact with one altered byte, with expected and actual digests', async () => {
    const { objects, artifacts } = fixture();
    const target = artifacts[2]!;
    const bytes = Buffer.from(objects.get(target.key)!);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x01;
    objects.set(target.key, bytes);
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    assert.deepEqual(v.chainFindings, []);
    assert.equal(v.artifactFindings.length, 1);
    const f = v.artifactFindings[0]!;
    assert.equal(f.key, target.key);
    assert.equal(f.expected, target.sha256);
    assert.equal(f.actual, sha256Hex(bytes));
    assert.match(f.problem, /chain entry 2/);
  });

  it('names a tampered artifact that is referenced only from inside another artifact', async () => {
    const { objects, model } = fixture();
    objects.set(model.key, Buffer.from('{"kind":"model","w":[1,2,4]}'));
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    assert.deepEqual(
      v.artifactFindings.map((f) => f.key),
      [model.key],
    );
    assert.match(v.artifactFindings[0]!.problem, /referenced by sha256\//);
  });

  it('detects a dropped entry in the middle (gap and broken link)', async () => {
    const { objects } = fixture();
    objects.delete(chainKey(RELEASE, 1));
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    assert.ok(
      problems(v.chainFindings).some((p) => p.startsWith(`${chainKey(RELEASE, 1)}: chain entry 1 is missing`)),
      problems(v.chainFindings).join('\n'),
    );
  });

  it('detects a dropped last entry through the head and the missing terminal entry', async () => {
    const { objects, head } = fixture();
    objects.delete(chainKey(RELEASE, 3));
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE, { expectedHead: head });
    const ps = problems(v.chainFindings);
    assert.ok(
      ps.some((p) => /chain head differs/.test(p)),
      ps.join('\n'),
    );
    assert.ok(
      ps.some((p) => /without a terminal entry/.test(p)),
      ps.join('\n'),
    );
  });

  it('detects reordered entries (swapped between positions)', async () => {
    const { objects } = fixture();
    const a = objects.get(chainKey(RELEASE, 1))!;
    objects.set(chainKey(RELEASE, 1), objects.get(chainKey(RELEASE, 2))!);
    objects.set(chainKey(RELEASE, 2), a);
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    const ps = problems(v.chainFindings);
    assert.ok(
      ps.some((p) => p.startsWith(`${chainKey(RELEASE, 1)}: entry stored at position 1 says it is entry 2`)),
      ps.join('\n'),
    );
    assert.ok(
      ps.some((p) => p.startsWith(`${chainKey(RELEASE, 2)}: entry stored at position 2 says it is entry 1`)),
      ps.join('\n'),
    );
    assert.ok(ps.some((p) => /broken link/.test(p)));
  });

  it("detects a rewritten entry through the next entry's link", async () => {
    const { objects } = fixture();
    const entry = JSON.parse(Buffer.from(objects.get(chainKey(RELEASE, 1))!).toString('utf8')) as ChainEntry;
    entry.decision = { verdict: 'pass', reasons: ['rewritten after the fact'] };
    objects.set(chainKey(RELEASE, 1), canonicalBytes(entry));
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    assert.deepEqual(
      v.chainFindings.map((f) => [f.key, f.expected, f.actual !== f.expected]),
      [[chainKey(RELEASE, 2), sha256Hex(canonicalBytes(entry)), true]],
    );
    assert.match(v.chainFindings[0]!.problem, /broken link: prevEntryDigest does not match the digest of entry 1/);
  });

  it('reports a missing artifact and an unparseable entry', async () => {
    const { objects, artifacts } = fixture();
    objects.delete(artifacts[0]!.key);
    objects.set(chainKey(RELEASE, 2), Buffer.from('not json'));
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    assert.ok(v.artifactFindings.some((f) => f.key === artifacts[0]!.key && /missing/.test(f.problem)));
    assert.ok(v.chainFindings.some((f) => f.key === chainKey(RELEASE, 2) && /not a valid chain entry/.test(f.problem)));
  });

  it('finds nested refs at any depth and ignores look-alikes', () => {
    const sha = 'a'.repeat(64);
    const refs = nestedRefs(
      canonicalBytes({ x: [{ y: { key: 'sha256/1', sha256: sha, size: 3 } }], z: { key: 'k', sha256: 'short' } }),
    );
    assert.deepEqual(refs, [{ key: 'sha256/1', sha256: sha, size: 3 }]);
  });
});
