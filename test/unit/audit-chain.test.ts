/** The chain verifier on in-memory evidence: every kind of tampering is found and named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainKey } from '../../src/contracts/evidence-keys';
import {
  EvidenceUnreadableError,
  MemoryEvidenceReader,
  verifyChain,
  nestedRefs,
  type EvidenceReader,
  type Finding,
} from '../../src/audit';
import type { ChainEntry, EvidenceRef } from '../../src/domain';
import { canonicalBytes, contentKey, EvidenceStorageError, sha256Hex } from '../../src/evidence';

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
    assert.deepEqual(
      v.artifactFindings.map((f) => [f.key, f.problem]),
      [
        [
          artifacts[0]!.key,
          `destroyed: the object was listed but reading it found nothing (referenced by chain entry 0 (${chainKey(RELEASE, 0)}))`,
        ],
      ],
    );
    assert.deepEqual(
      v.chainFindings.filter((f) => f.key === chainKey(RELEASE, 2)).map((f) => f.problem),
      [
        'expected chain entry 2 (JSON with releaseId, seq, stage, step, prevEntryDigest, artifacts, decision, at); found 8 bytes that are not JSON (starting "not json")',
      ],
    );
  });

  it('says in words which field of a stored entry is wrong', async () => {
    const { objects } = fixture();
    objects.set(chainKey(RELEASE, 1), canonicalBytes({ seq: 'one', releaseId: RELEASE }));
    const v = await verifyChain(new MemoryEvidenceReader(objects), RELEASE);
    const p = v.chainFindings.find((f) => f.key === chainKey(RELEASE, 1))!.problem;
    assert.match(p, /^expected chain entry 1 \(JSON with .*\); found JSON that is not a chain entry \(seq: .*number/);
  });

  it('finds nested refs at any depth and ignores look-alikes', () => {
    const sha = 'a'.repeat(64);
    const refs = nestedRefs(
      canonicalBytes({ x: [{ y: { key: 'sha256/1', sha256: sha, size: 3 } }], z: { key: 'k', sha256: 'short' } }),
    );
    assert.deepEqual(refs, [{ key: 'sha256/1', sha256: sha, size: 3 }]);
  });
});

/** The fixture as a versioned bucket: each key's history oldest first (null body = delete marker). */
function versioned(objects: Map<string, Uint8Array>) {
  const history = new Map<string, Array<{ versionId: string; bytes: Uint8Array | null }>>();
  for (const [k, bytes] of objects) history.set(k, [{ versionId: `v1-${k}`, bytes }]);
  return history;
}

describe('evidence read by version', () => {
  it('names an entry hidden by a delete marker and an artifact hidden by a newer version, and reads the intact ones', async () => {
    const { objects, artifacts, head } = fixture();
    const history = versioned(objects);
    const entryKey = chainKey(RELEASE, 2);
    history.get(entryKey)!.push({ versionId: 'marker-1', bytes: null });
    history.get(artifacts[1]!.key)!.push({ versionId: 'v2-forged', bytes: Buffer.from('{"forged":true}') });
    const v = await verifyChain(new MemoryEvidenceReader(new Map(), history), RELEASE, { expectedHead: head });
    assert.deepEqual([v.chainFindings, v.artifactFindings], [[], []], 'the intact versions pass every other check');
    assert.equal(v.entries.length, 4);
    assert.deepEqual(
      v.hiddenFindings.map((f) => [f.key, f.actual]),
      [
        [entryKey, 'delete marker marker-1'],
        [artifacts[1]!.key, 'version v2-forged'],
      ],
    );
    assert.match(
      v.hiddenFindings[0]!.problem,
      new RegExp(
        `^hidden: intact version v1-${entryKey} \\(sha256 [0-9a-f]{64}\\) lies under a delete marker marker-1`,
      ),
    );
    assert.match(v.hiddenFindings[1]!.problem, /lies under a newer version v2-forged \(sha256 [0-9a-f]{64}\)/);
    const states = Object.fromEntries(v.objectReports.map((r) => [r.key, r.state]));
    assert.equal(states[entryKey], 'hidden');
    assert.equal(states[chainKey(RELEASE, 0)], 'intact');
  });

  it('names an artifact (a dossier object, say) under a delete marker hidden, and checks its intact version', async () => {
    const { objects, artifacts, head } = fixture();
    const history = versioned(objects);
    const blob = artifacts.at(-1)!;
    history.get(blob.key)!.push({ versionId: 'marker-on-blob', bytes: null });
    const v = await verifyChain(new MemoryEvidenceReader(new Map(), history), RELEASE, { expectedHead: head });
    assert.deepEqual([v.chainFindings, v.artifactFindings], [[], []], 'the intact version passes every other check');
    assert.deepEqual(
      v.hiddenFindings.map((f) => [f.key, f.actual]),
      [[blob.key, 'delete marker marker-on-blob']],
    );
    assert.match(v.hiddenFindings[0]!.problem, /^hidden: intact version .* lies under a delete marker marker-on-blob/);
    assert.equal(v.objectReports.find((r) => r.key === blob.key)!.state, 'hidden');
  });

  it('reads the recorded version of an artifact: gone is destroyed, other bytes are altered', async () => {
    const { objects, artifacts } = fixture();
    const history = versioned(objects);
    const entry0 = JSON.parse(Buffer.from(objects.get(chainKey(RELEASE, 0))!).toString('utf8')) as ChainEntry;
    // Entry 0 records the version of its artifact; that version is gone, a newer one took its place.
    history.set(artifacts[0]!.key, [{ versionId: 'v9', bytes: objects.get(artifacts[0]!.key)! }]);
    entry0.artifacts[0]!.versionId = 'v1-recorded';
    const entryBytes = canonicalBytes(entry0);
    history.set(chainKey(RELEASE, 0), [{ versionId: 'e0', bytes: entryBytes }]);
    // Entry 1's successor links to the original digest of entry 0... relink so only the artifact is at fault.
    const e1 = JSON.parse(Buffer.from(objects.get(chainKey(RELEASE, 1))!).toString('utf8')) as ChainEntry;
    e1.prevEntryDigest = sha256Hex(entryBytes);
    history.set(chainKey(RELEASE, 1), [{ versionId: 'e1', bytes: canonicalBytes(e1) }]);
    const e2 = JSON.parse(Buffer.from(objects.get(chainKey(RELEASE, 2))!).toString('utf8')) as ChainEntry;
    e2.prevEntryDigest = sha256Hex(canonicalBytes(e1));
    history.set(chainKey(RELEASE, 2), [{ versionId: 'e2', bytes: canonicalBytes(e2) }]);
    const e3 = JSON.parse(Buffer.from(objects.get(chainKey(RELEASE, 3))!).toString('utf8')) as ChainEntry;
    e3.prevEntryDigest = sha256Hex(canonicalBytes(e2));
    history.set(chainKey(RELEASE, 3), [{ versionId: 'e3', bytes: canonicalBytes(e3) }]);
    history.get(artifacts[3]!.key)![0]!.bytes = Buffer.from('{"kind":"other"}');
    const v = await verifyChain(new MemoryEvidenceReader(new Map(), history), RELEASE);
    assert.deepEqual(v.chainFindings, []);
    const byKey = Object.fromEntries(v.objectReports.map((r) => [r.key, r]));
    assert.equal(byKey[artifacts[0]!.key]!.state, 'destroyed');
    assert.match(
      byKey[artifacts[0]!.key]!.detail,
      /^destroyed: the recorded version v1-recorded no longer exists; the key has 1 version \(latest version v9\)$/,
    );
    assert.equal(byKey[artifacts[3]!.key]!.state, 'altered');
    assert.match(
      byKey[artifacts[3]!.key]!.detail,
      /^altered: the bytes of version v1-sha256\/[0-9a-f]+ hash to [0-9a-f]{64}, not to the recorded digest/,
    );
  });

  it('reports an object the store answers with an error as unreadable and checks the rest', async () => {
    const { objects, artifacts, head } = fixture();
    const broken = artifacts[2]!.key;
    const inner = new MemoryEvidenceReader(objects);
    const reader: EvidenceReader = {
      list: (p) => inner.list(p),
      versions: (k) => inner.versions(k),
      read: (k, v) =>
        k === broken
          ? Promise.reject(new EvidenceUnreadableError(k, 500, new Error('needle crc mismatch')))
          : inner.read(k, v),
    };
    const v = await verifyChain(reader, RELEASE, { expectedHead: head });
    assert.deepEqual(v.chainFindings, []);
    assert.deepEqual(
      v.artifactFindings.map((f) => [f.key, f.problem]),
      [
        [
          broken,
          `unreadable: the store answered HTTP 500 when the object was read, where the evidence bytes were expected (referenced by chain entry 2 (${chainKey(RELEASE, 2)}))`,
        ],
      ],
    );
    assert.equal(v.objectReports.filter((r) => r.state === 'intact').length, 8, '4 entries and 4 other artifacts');
  });

  it('lets a store that does not answer at all fail the whole verification', async () => {
    const { objects } = fixture();
    const inner = new MemoryEvidenceReader(objects);
    const reader: EvidenceReader = {
      list: (p) => inner.list(p),
      versions: (k) => inner.versions(k),
      read: (k) => Promise.reject(new EvidenceStorageError('get', k, new Error('ECONNREFUSED'))),
    };
    await assert.rejects(verifyChain(reader, RELEASE), EvidenceStorageError);
  });
});
