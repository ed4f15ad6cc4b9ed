/**
 * Every way around Object Lock that the local stack could offer, tried with each identity against
 * a real SeaweedFS (issue #19): filer, volume and master HTTP, internal gRPC, overwrite, delete
 * marker, version delete, retention and legal-hold changes, versioning off. Each is refused, or
 * (overwrite, which SeaweedFS cannot refuse) leaves the recorded locked version intact and is what
 * every reader reads.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { EvidenceStore, createS3Client, sha256Hex } from '../../src/evidence';
import { grpcCall, httpStatus, statusOf, tlsRequest } from '../support/seaweed-probes';
import { startTestStack, type TestStack } from '../../src/stack';
import type { EvidenceRef } from '../../src/domain';

/** The stack's own client certificate (state dir only): what an operator with the machine's account holds. */
function stackCert(caFile: string): { cert: Buffer; key: Buffer } {
  const dir = path.dirname(caFile);
  return { cert: fs.readFileSync(path.join(dir, 'node.crt')), key: fs.readFileSync(path.join(dir, 'node.key')) };
}

describe('evidence lockdown: no way around Object Lock in the local stack', () => {
  let stack: TestStack;
  let worker: S3Client;
  let reader: S3Client;
  let admin: S3Client;
  let blob: EvidenceRef;
  let named: EvidenceRef;
  const identities: Array<[string, () => S3Client]> = [
    ['worker', () => worker],
    ['reader', () => reader],
    ['admin', () => admin],
  ];

  before(async () => {
    stack = await startTestStack({ temporal: false });
    worker = createS3Client(stack.s3Config);
    reader = createS3Client({ ...stack.s3Config, ...stack.readerCredentials });
    admin = createS3Client({ ...stack.s3Config, ...stack.adminCredentials! });
    const store = new EvidenceStore({ s3: worker, bucket: stack.bucket, retention: { mode: 'COMPLIANCE', days: 1 } });
    blob = await store.putBytes(Buffer.from(`locked blob ${process.pid}`), 'text/plain');
    named = await store.putNamed('releases/lockdown/chain/000000', { seq: 0, nonce: process.pid });
    assert.ok(blob.versionId && named.versionId, 'the bucket is versioned');
  });

  after(async () => {
    worker?.destroy();
    reader?.destroy();
    admin?.destroy();
    await stack?.stop();
  });

  const bucket = (): string => stack.bucket;

  it('the reader identity cannot write at all; the worker can create', async () => {
    assert.equal(await statusOf(reader.send(new PutObjectCommand({ Bucket: bucket(), Key: 'r/new', Body: 'x' }))), 403);
    assert.equal(
      await statusOf(reader.send(new PutObjectCommand({ Bucket: bucket(), Key: named.key, Body: 'x' }))),
      403,
    );
    assert.equal(
      await statusOf(
        worker.send(new PutObjectCommand({ Bucket: bucket(), Key: 'w/new', Body: 'x', IfNoneMatch: '*' })),
      ),
      'ok',
    );
  });

  it('no identity can put a delete marker over evidence or delete a version (single or multi-object delete)', async () => {
    for (const [who, client] of identities) {
      for (const ref of [blob, named]) {
        const marker = await statusOf(client().send(new DeleteObjectCommand({ Bucket: bucket(), Key: ref.key })));
        assert.equal(marker, 403, `${who}: delete marker on ${ref.key}`);
        const version = await statusOf(
          client().send(new DeleteObjectCommand({ Bucket: bucket(), Key: ref.key, VersionId: ref.versionId })),
        );
        assert.equal(version, 403, `${who}: delete of version ${ref.versionId}`);
        const bypass = await statusOf(
          client().send(
            new DeleteObjectCommand({
              Bucket: bucket(),
              Key: ref.key,
              VersionId: ref.versionId,
              BypassGovernanceRetention: true,
            }),
          ),
        );
        assert.equal(bypass, 403, `${who}: delete of version ${ref.versionId} bypassing governance`);
      }
    }
    // The multi-object delete of a version: refused per object for the application identities.
    for (const [who, client] of identities.slice(0, 2)) {
      const res = await client()
        .send(
          new DeleteObjectsCommand({
            Bucket: bucket(),
            Delete: { Objects: [{ Key: named.key, VersionId: named.versionId }, { Key: named.key }] },
            ChecksumAlgorithm: 'SHA256',
          }),
        )
        .catch((e: Error) => ({ Deleted: [], Errors: [{ Code: e.name }] }));
      assert.deepEqual(res.Deleted ?? [], [], `${who}: multi-object delete removed something`);
    }
  });

  it('no identity can shorten or weaken a COMPLIANCE lock, lift a legal hold, or switch versioning off', async () => {
    for (const [who, client] of identities) {
      for (const mode of ['COMPLIANCE', 'GOVERNANCE'] as const) {
        const shorter = await statusOf(
          client().send(
            new PutObjectRetentionCommand({
              Bucket: bucket(),
              Key: named.key,
              VersionId: named.versionId,
              Retention: { Mode: mode, RetainUntilDate: new Date(Date.now() + 60_000) },
              ChecksumAlgorithm: 'SHA256',
            }),
          ),
        );
        assert.notEqual(shorter, 'ok', `${who}: retention shortened to ${mode} +60 s`);
      }
      const hold = await statusOf(
        client().send(
          new PutObjectLegalHoldCommand({
            Bucket: bucket(),
            Key: named.key,
            VersionId: named.versionId,
            LegalHold: { Status: 'OFF' },
            ChecksumAlgorithm: 'SHA256',
          }),
        ),
      );
      if (who !== 'admin') assert.equal(hold, 403, `${who}: legal hold change`);
      const versioning = await statusOf(
        client().send(
          new PutBucketVersioningCommand({ Bucket: bucket(), VersioningConfiguration: { Status: 'Suspended' } }),
        ),
      );
      assert.notEqual(versioning, 'ok', `${who}: versioning suspended`);
    }
  });

  it('an overwrite (which SeaweedFS cannot refuse) leaves the recorded version intact and unread-over', async () => {
    for (const [who, client] of identities) {
      const res = await statusOf(client().send(new PutObjectCommand({ Bucket: bucket(), Key: named.key, Body: who })));
      assert.ok(res === 'ok' || res === 403, `${who}: overwrite answered ${res}`);
    }
    // The recorded version still holds the original bytes, and the evidence store reads it, not the latest.
    const got = await reader.send(
      new GetObjectCommand({ Bucket: bucket(), Key: named.key, VersionId: named.versionId }),
    );
    assert.equal(sha256Hex(Buffer.from(await got.Body!.transformToByteArray())), named.sha256);
    const readerStore = new EvidenceStore({ s3: reader, bucket: bucket(), retention: null });
    assert.equal(sha256Hex(await readerStore.getBytes(named.key)), named.sha256);
    assert.equal(sha256Hex(await readerStore.getBytes(named.key, named.sha256)), named.sha256);
  });

  it('the filer HTTP API refuses reads, writes and deletes (plain and versioned paths) without its JWT', async () => {
    const filer = `http://127.0.0.1:${stack.seaweed!.internal.filer}/buckets/${bucket()}`;
    const versionPath = `${filer}/${named.key}.versions/v_${named.versionId}`;
    assert.equal(await httpStatus(`${filer}/${named.key}`), 401);
    assert.equal(await httpStatus(`${filer}/`), 401);
    assert.equal(await httpStatus(versionPath), 401);
    assert.equal(await httpStatus(versionPath, { method: 'PUT', body: 'rewritten' }), 401);
    assert.equal(await httpStatus(versionPath, { method: 'DELETE' }), 401);
    assert.equal(await httpStatus(`${filer}/${named.key}`, { method: 'DELETE' }), 401);
    assert.equal(await httpStatus(`${filer}/${blob.key}`, { method: 'PUT', body: 'x' }), 401);
  });

  it('volume HTTP refuses writes, deletes and reads of data without a master-issued JWT', async () => {
    const { volume } = stack.seaweed!.internal;
    const ca = stack.seaweed!.grpcCaFile;
    // Plain HTTP is not even spoken (HTTPS with client certificates): the volume server hangs up.
    const plain = await httpStatus(`http://127.0.0.1:${volume}/1,01637037d6`, { method: 'DELETE' }).catch(
      () => 'refused' as const,
    );
    assert.equal(plain, 'refused');
    assert.equal(await tlsRequest(ca, volume, '/1,01637037d6', 'GET'), 'refused', 'no client certificate');
    // With the stack's certificate (only in the state dir) the JWT is still required.
    const cert = stackCert(ca);
    assert.equal(await tlsRequest(ca, volume, '/1,01637037d6', 'POST', cert, 'x'), 401);
    assert.equal(await tlsRequest(ca, volume, '/1,01637037d6', 'DELETE', cert), 401);
    assert.equal(await tlsRequest(ca, volume, '/1,01637037d6', 'GET', cert), 401);
    // And the evidence is still there after all of it.
    const got = await reader.send(new GetObjectCommand({ Bucket: bucket(), Key: blob.key, VersionId: blob.versionId }));
    assert.equal(sha256Hex(Buffer.from(await got.Body!.transformToByteArray())), blob.sha256);
  });

  it('master HTTP refuses /col/delete, /dir/assign and /vol/grow without the stack certificate', async () => {
    const { master } = stack.seaweed!.internal;
    const ca = stack.seaweed!.grpcCaFile;
    for (const p of [`/col/delete?collection=${bucket()}`, '/dir/assign', '/vol/grow?count=1']) {
      assert.equal(await httpStatus(`http://127.0.0.1:${master}${p}`), 400, `plain HTTP ${p}`);
      assert.equal(await tlsRequest(ca, master, p, 'GET'), 'refused', `HTTPS without a client certificate ${p}`);
    }
    // Positive control: the TLS probe itself gets an answer with the certificate (a harmless status page).
    assert.equal(await tlsRequest(ca, master, '/cluster/status', 'GET', stackCert(ca)), 200);
    // The bucket's data survived the /col/delete attempts.
    const got = await reader.send(new GetObjectCommand({ Bucket: bucket(), Key: blob.key, VersionId: blob.versionId }));
    assert.equal(sha256Hex(Buffer.from(await got.Body!.transformToByteArray())), blob.sha256);
  });

  it('internal gRPC refuses a client without the stack certificate (and answers one with it)', async () => {
    const sw = stack.seaweed!;
    const dir = path.dirname(sw.grpcCaFile);
    const withCert = { cert: path.join(dir, 'node.crt'), key: path.join(dir, 'node.key') };
    // Positive control: the probe itself works when the client has the certificate.
    assert.match(await grpcCall(sw.internal.filerGrpc, sw.grpcCaFile, withCert), /^grpc-status \d+$/);
    for (const port of [sw.internal.filerGrpc, sw.internal.masterGrpc, sw.internal.volumeGrpc])
      assert.equal(await grpcCall(port, sw.grpcCaFile), 'refused', `gRPC port ${port} without a client certificate`);
  });

  it('after every attempt: no delete marker, and every recorded version reads back intact', async () => {
    const v = await reader.send(new ListObjectVersionsCommand({ Bucket: bucket(), Prefix: 'releases/lockdown/' }));
    assert.deepEqual(v.DeleteMarkers ?? [], []);
    assert.ok((v.Versions ?? []).some((x) => x.VersionId === named.versionId));
    for (const ref of [blob, named]) {
      const got = await reader.send(new GetObjectCommand({ Bucket: bucket(), Key: ref.key, VersionId: ref.versionId }));
      assert.equal(sha256Hex(Buffer.from(await got.Body!.transformToByteArray())), ref.sha256);
    }
  });
});
