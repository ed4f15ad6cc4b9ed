import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  EvidenceConflictError,
  EvidenceIntegrityError,
  EvidenceNotFoundError,
  EvidenceStore,
  canonicalBytes,
  createS3Client,
  sha256Hex,
} from '../../src/evidence';
import { BucketSetupError, ensureEvidenceBucket, startTestStack, type TestStack } from '../../src/stack';

/** Resolves to the HTTP status an S3 call failed with, or fails the test if it succeeded. */
async function rejectedStatus(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
  assert.fail('expected the S3 request to be refused');
}

describe('EvidenceStore against SeaweedFS', () => {
  let stack: TestStack;
  let app: S3Client; // the application's non-admin identity
  let admin: S3Client;
  let store: EvidenceStore;
  const unlockedBucket = 'vigil-unlocked-test';
  // Unique per run so nothing depends on bucket state from another test.
  const unique = (label: string) => ({ label, nonce: `${process.pid}-${Math.random()}` });

  before(async () => {
    stack = await startTestStack({ temporal: false });
    app = createS3Client(stack.s3Config);
    admin = createS3Client({ ...stack.s3Config, ...stack.adminCredentials! });
    store = new EvidenceStore({ s3: app, bucket: stack.bucket, retention: { mode: 'COMPLIANCE', days: 1 } });
    await admin.send(new CreateBucketCommand({ Bucket: unlockedBucket }));
  });

  after(async () => {
    app?.destroy();
    admin?.destroy();
    await stack?.stop();
  });

  it('putJson is content-addressed: key is the SHA-256 of the RFC 8785 bytes', async () => {
    const value = { z: 1, a: [true, null, 'é'], ...unique('content') };
    const bytes = canonicalBytes(value);
    const ref = await store.putJson(value);
    assert.equal(ref.sha256, sha256Hex(bytes));
    assert.equal(ref.key, `sha256/${ref.sha256}`);
    assert.equal(ref.size, bytes.length);
    assert.equal(ref.mediaType, 'application/json');
    assert.ok(ref.versionId, 'a versioned, locked bucket returns a VersionId');

    const raw = await app.send(new GetObjectCommand({ Bucket: stack.bucket, Key: ref.key }));
    const stored = Buffer.from(await raw.Body!.transformToByteArray());
    assert.equal(sha256Hex(stored), ref.sha256);
    assert.deepEqual(await store.getJson(ref.key), value);
    assert.deepEqual(await store.getRef(ref), bytes);
  });

  it('puts Object Lock retention on every write', async () => {
    const ref = await store.putJson(unique('retention'));
    const res = await app.send(
      new GetObjectRetentionCommand({ Bucket: stack.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    assert.equal(res.Retention?.Mode, 'COMPLIANCE');
    assert.ok(res.Retention?.RetainUntilDate && res.Retention.RetainUntilDate.getTime() > Date.now());
  });

  it('refuses a second create-only PUT to an existing key with 412', async () => {
    const ref = await store.putJson(unique('412'));
    const status = await rejectedStatus(
      app.send(new PutObjectCommand({ Bucket: stack.bucket, Key: ref.key, Body: 'other', IfNoneMatch: '*' })),
    );
    assert.equal(status, 412);
  });

  it('the server verifies the SHA-256 checksum sent with a PUT', async () => {
    const wrong = Buffer.from(sha256Hex(Buffer.from('something else')), 'hex').toString('base64');
    const status = await rejectedStatus(
      app.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: `sha256/${sha256Hex(Buffer.from('body'))}`,
          Body: 'body',
          IfNoneMatch: '*',
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: wrong,
        }),
      ),
    );
    assert.equal(status, 400);
  });

  it('putBytes stores raw bytes under their digest with the given media type', async () => {
    const bytes = Buffer.from(`raw ${unique('bytes').nonce}`);
    const ref = await store.putBytes(bytes, 'text/plain');
    assert.equal(ref.key, `sha256/${sha256Hex(bytes)}`);
    assert.equal(ref.mediaType, 'text/plain');
    assert.deepEqual(await store.getBytes(ref.key), bytes);
  });

  it('putJson twice returns the same ref and leaves exactly one version', async () => {
    const value = unique('idempotent');
    const first = await store.putJson(value);
    const second = await store.putJson(value);
    assert.deepEqual(second, first);
    const versions = await app.send(new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: first.key }));
    assert.equal(versions.Versions?.length, 1);
    assert.equal(versions.Versions?.[0]?.VersionId, first.versionId);
    assert.equal(versions.DeleteMarkers?.length ?? 0, 0);
  });

  it('refuses a versioned delete of a COMPLIANCE-locked object, even by the admin', async () => {
    const ref = await store.putJson(unique('versioned-delete'));
    for (const client of [app, admin]) {
      const status = await rejectedStatus(
        client.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: ref.key, VersionId: ref.versionId })),
      );
      assert.equal(status, 403);
    }
    assert.equal((await store.getRef(ref)).length, ref.size);
  });

  it('a plain delete (a delete marker) is refused; a newer version does not change what is read', async () => {
    const ref = await store.putJson(unique('plain-delete'));
    assert.equal(await rejectedStatus(app.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: ref.key }))), 403);
    await app.send(new PutObjectCommand({ Bucket: stack.bucket, Key: ref.key, Body: 'hiding it' }));
    // Without a version id the store reads the key's first (locked) version, not the latest.
    assert.equal(sha256Hex(await store.getBytes(ref.key)), ref.sha256);
    assert.equal(sha256Hex(await store.getBytes(ref.key, undefined, ref.versionId)), ref.sha256);
    await assert.rejects(store.getBytes('sha256/' + '0'.repeat(64)), EvidenceNotFoundError);
  });

  it('GOVERNANCE retention cannot be bypassed by the application identity', async () => {
    const governed = new EvidenceStore({ s3: app, bucket: stack.bucket, retention: { mode: 'GOVERNANCE', days: 1 } });
    const ref = await governed.putJson(unique('governance'));
    const deleteWithBypass = (client: S3Client) =>
      client.send(
        new DeleteObjectCommand({
          Bucket: stack.bucket,
          Key: ref.key,
          VersionId: ref.versionId,
          BypassGovernanceRetention: true,
        }),
      );
    assert.equal(await rejectedStatus(deleteWithBypass(app)), 403);
    const shorten = app.send(
      new PutObjectRetentionCommand({
        Bucket: stack.bucket,
        Key: ref.key,
        VersionId: ref.versionId,
        BypassGovernanceRetention: true,
        Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 1000) },
      }),
    );
    assert.equal(await rejectedStatus(shorten), 403);
    // COMPLIANCE retention cannot be shortened by anyone.
    const locked = await store.putJson(unique('compliance-shorten'));
    for (const client of [app, admin]) {
      const shortenCompliance = client.send(
        new PutObjectRetentionCommand({
          Bucket: stack.bucket,
          Key: locked.key,
          VersionId: locked.versionId,
          BypassGovernanceRetention: true,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 1000) },
        }),
      );
      assert.equal(await rejectedStatus(shortenCompliance), 403);
    }
    assert.equal(sha256Hex(await governed.getRef(ref)), ref.sha256);
    // The bucket policy refuses version deletes to every identity, admin included.
    assert.equal(await rejectedStatus(deleteWithBypass(admin)), 403);
  });

  it('putNamed is idempotent for identical bytes and refuses different bytes', async () => {
    const key = `releases/${unique('r').nonce}/chain/0`;
    const entry = { seq: 0, stage: 'SNAPSHOT', prevEntryDigest: null };
    const first = await store.putNamed(key, entry);
    assert.deepEqual(await store.putNamed(key, { prevEntryDigest: null, stage: 'SNAPSHOT', seq: 0 }), first);
    const err = await store.putNamed(key, { ...entry, stage: 'OFFLINE_EVAL' }).then(
      () => assert.fail('expected a conflict'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EvidenceConflictError);
    assert.match(err.message, new RegExp(key));
    assert.equal(err.existingSha256, first.sha256);
    assert.deepEqual(await store.getJson(key, first.sha256), entry);
    await assert.rejects(store.putNamed(`sha256/${first.sha256}`, entry), RangeError);
  });

  it('detects tampered bytes on read (bucket without Object Lock, overwritten behind the store)', async () => {
    const loose = new EvidenceStore({ s3: app, bucket: unlockedBucket, retention: null });
    const blob = await loose.putJson(unique('tamper-blob'));
    const named = await loose.putNamed(`releases/${unique('t').nonce}/chain/0`, { seq: 0 });
    for (const key of [blob.key, named.key]) {
      await app.send(new PutObjectCommand({ Bucket: unlockedBucket, Key: key, Body: '{"tampered":true}' }));
    }
    const blobErr = await loose.getBytes(blob.key).catch((e: unknown) => e);
    assert.ok(blobErr instanceof EvidenceIntegrityError);
    assert.equal(blobErr.key, blob.key);
    assert.match(blobErr.message, new RegExp(blob.key));
    await assert.rejects(loose.getJson(named.key, named.sha256), EvidenceIntegrityError);
    await assert.rejects(loose.getBytes(`sha256/${'0'.repeat(64)}`), EvidenceNotFoundError);
  });

  it('ensureEvidenceBucket is idempotent and refuses a bucket without Object Lock', async () => {
    await ensureEvidenceBucket(admin, stack.bucket);
    await assert.rejects(ensureEvidenceBucket(admin, unlockedBucket), BucketSetupError);
  });

  it('the application identity cannot create buckets', async () => {
    assert.equal(await rejectedStatus(app.send(new CreateBucketCommand({ Bucket: 'vigil-not-allowed' }))), 403);
  });
});
