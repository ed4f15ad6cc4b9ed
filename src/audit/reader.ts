import { GetBucketVersioningCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { EvidenceStorageError } from '../evidence';

/**
 * Raw read access to the evidence store for auditors. Unlike EvidenceStore it never verifies on
 * read: the verifier hashes the bytes itself so that it can report every mismatch, not just the first.
 */
export interface EvidenceReader {
  /** Keys under a prefix, in any order. */
  list(prefix: string): Promise<string[]>;
  /** The object's bytes (the given version, when set), or null when there is no such object. */
  read(key: string, versionId?: string): Promise<Uint8Array | null>;
}

export class S3EvidenceReader implements EvidenceReader {
  private versioned: Promise<boolean> | null = null;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /**
   * Refs pin object versions; a bucket without versioning (e.g. a copy of the evidence made for
   * review) has exactly one version per key, so there the key alone names the object.
   */
  bucketIsVersioned(): Promise<boolean> {
    this.versioned ??= this.s3
      .send(new GetBucketVersioningCommand({ Bucket: this.bucket }))
      .then((r) => r.Status === 'Enabled' || r.Status === 'Suspended')
      .catch(() => true);
    return this.versioned;
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.call('list', prefix, () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async read(key: string, versionId?: string): Promise<Uint8Array | null> {
    const pinned = versionId !== undefined && (await this.bucketIsVersioned()) ? versionId : undefined;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: pinned }));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NoSuchKey' || (err as Error).name === 'NoSuchVersion') return null;
      throw new EvidenceStorageError('get', key, err);
    }
  }

  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new EvidenceStorageError(op, key, err);
    }
  }
}

/** An in-memory store (tests, and auditing a copied-out evidence set). */
export class MemoryEvidenceReader implements EvidenceReader {
  constructor(readonly objects: Map<string, Uint8Array> = new Map()) {}

  list(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.objects.keys()].filter((k) => k.startsWith(prefix)));
  }

  read(key: string): Promise<Uint8Array | null> {
    return Promise.resolve(this.objects.get(key) ?? null);
  }
}
