import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { EvidenceRef } from '../domain/evidence';
import { canonicalBytes, sha256Hex } from './canonical-json';
import { EvidenceConflictError, EvidenceIntegrityError, EvidenceNotFoundError, EvidenceStorageError } from './errors';

export const JSON_MEDIA_TYPE = 'application/json';
const CONTENT_KEY = /^sha256\/([0-9a-f]{64})$/;

export interface Retention {
  mode: 'COMPLIANCE' | 'GOVERNANCE';
  days: number;
}

export interface EvidenceStoreOptions {
  s3: S3Client;
  bucket: string;
  /** Object Lock retention put on every write; null where the bucket has no Object Lock. */
  retention: Retention | null;
  now?: () => Date;
}

export function contentKey(sha256: string): string {
  return `sha256/${sha256}`;
}

/**
 * Write-once evidence over S3. Content-addressed blobs live at sha256/<hex>; small named
 * pointers (e.g. releases/<id>/chain/<seq>) at caller-chosen keys. Every write is create-only,
 * so a retried activity can never replace evidence, only confirm it.
 */
export class EvidenceStore {
  private readonly s3: S3Client;
  readonly bucket: string;
  private readonly retention: Retention | null;
  private readonly now: () => Date;

  constructor(opts: EvidenceStoreOptions) {
    this.s3 = opts.s3;
    this.bucket = opts.bucket;
    this.retention = opts.retention;
    this.now = opts.now ?? (() => new Date());
  }

  putJson(value: unknown): Promise<EvidenceRef> {
    return this.putBytes(canonicalBytes(value), JSON_MEDIA_TYPE);
  }

  async putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef> {
    const sha256 = sha256Hex(bytes);
    const key = contentKey(sha256);
    const ref = { key, sha256, size: bytes.length, mediaType };
    const written = await this.createOnly(key, bytes, sha256, mediaType);
    if (written.created) return { ...ref, versionId: written.versionId };
    // Same key means same bytes (that is what the key says), so the earlier write stands: its
    // first version, which is the locked one (a later overwrite cannot replace it). The ref keeps
    // the caller's mediaType: the bytes, not the first writer's label, are the evidence. Reading it
    // back raises the integrity error if that version is damaged.
    const existing = await this.read(key);
    const actual = sha256Hex(existing.bytes);
    if (actual !== sha256) throw new EvidenceIntegrityError(key, sha256, actual);
    return { ...ref, versionId: existing.versionId };
  }

  /**
   * Create-only canonical JSON at a chosen key. A retry that finds identical bytes succeeds;
   * different bytes mean two writers disagree about history, which is never resolved silently.
   */
  async putNamed(key: string, value: unknown): Promise<EvidenceRef> {
    if (CONTENT_KEY.test(key) || key.startsWith('sha256/')) {
      throw new RangeError(`putNamed: ${key} is in the content-addressed namespace; use putJson`);
    }
    const bytes = canonicalBytes(value);
    const sha256 = sha256Hex(bytes);
    const ref = { key, sha256, size: bytes.length, mediaType: JSON_MEDIA_TYPE };
    const written = await this.createOnly(key, bytes, sha256, JSON_MEDIA_TYPE);
    if (written.created) return { ...ref, versionId: written.versionId };
    const existing = await this.read(key);
    const existingSha = sha256Hex(existing.bytes);
    if (existingSha !== sha256) throw new EvidenceConflictError(key, existingSha, sha256);
    return { ...ref, versionId: existing.versionId };
  }

  /**
   * Read and verify: the recorded version when given, else the key's first version (never simply
   * the latest, which anyone with write access could have replaced). For sha256/<hex> keys the key
   * itself is the expected digest.
   */
  async getBytes(key: string, expectedSha256?: string, versionId?: string): Promise<Buffer> {
    const expected = expectedSha256 ?? CONTENT_KEY.exec(key)?.[1];
    const { bytes } = await this.read(key, versionId);
    if (expected !== undefined) {
      const actual = sha256Hex(bytes);
      if (actual !== expected) throw new EvidenceIntegrityError(key, expected, actual);
    }
    return bytes;
  }

  async getJson(key: string, expectedSha256?: string, versionId?: string): Promise<unknown> {
    const bytes = await this.getBytes(key, expectedSha256, versionId);
    return JSON.parse(bytes.toString('utf8')) as unknown;
  }

  /** Read exactly what a ref points at: its version, checked against its digest. */
  getRef(ref: EvidenceRef): Promise<Buffer> {
    return this.getBytes(ref.key, ref.sha256, ref.versionId);
  }

  private async createOnly(
    key: string,
    bytes: Uint8Array,
    sha256: string,
    mediaType: string,
  ): Promise<{ created: true; versionId: string | undefined } | { created: false }> {
    const input: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: key,
      Body: bytes,
      ContentType: mediaType,
      IfNoneMatch: '*',
      // The server verifies the body against this digest; S3 also requires a checksum on
      // PUTs that carry Object Lock headers.
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
    };
    if (this.retention) {
      input.ObjectLockMode = this.retention.mode;
      input.ObjectLockRetainUntilDate = new Date(this.now().getTime() + this.retention.days * 86_400_000);
    }
    try {
      const res = await this.s3.send(new PutObjectCommand(input));
      return { created: true, versionId: res.VersionId };
    } catch (err) {
      if (httpStatus(err) === 412) return { created: false };
      throw new EvidenceStorageError('put', key, err);
    }
  }

  /**
   * The version a read without a recorded versionId means: the key's first version. Every write
   * here is create-only, so that is the one this store wrote and locked; a later PUT or delete
   * marker by anyone else cannot hide it from readers. Undefined in a bucket without versioning.
   */
  async originalVersion(key: string): Promise<string | undefined> {
    let oldest: string | undefined;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const res = await this.send('list versions', key, () =>
        this.s3.send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: key,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        ),
      );
      // Newest first (S3's order), so the last version of the key seen is the oldest.
      for (const v of res.Versions ?? []) if (v.Key === key && v.VersionId) oldest = v.VersionId;
      if (!res.IsTruncated || !res.NextKeyMarker || res.NextKeyMarker > key) break;
      keyMarker = res.NextKeyMarker;
      versionIdMarker = res.NextVersionIdMarker;
    }
    if (oldest === undefined) throw new EvidenceNotFoundError(key);
    return oldest === 'null' ? undefined : oldest;
  }

  private async read(key: string, recorded?: string): Promise<{ bytes: Buffer; versionId: string | undefined }> {
    const versionId = recorded ?? (await this.originalVersion(key));
    const res = await this.send(
      'get',
      key,
      () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId })),
      versionId,
    );
    if (!res.Body) throw new EvidenceStorageError('get', key, new Error('response has no body'));
    return { bytes: Buffer.from(await res.Body.transformToByteArray()), versionId: res.VersionId };
  }

  private async send<T>(operation: string, key: string, fn: () => Promise<T>, versionId?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (httpStatus(err) === 404) throw new EvidenceNotFoundError(key, versionId);
      throw new EvidenceStorageError(operation, key, err);
    }
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}
