import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { EvidenceError, EvidenceStorageError } from '../evidence';

/** One version of a key, or a delete marker; `versionId` 'null' in a bucket that never kept versions. */
export interface ObjectVersion {
  versionId: string;
  deleteMarker: boolean;
}

/**
 * The store answered, but not with the object: a server error (e.g. 500 for a corrupt volume) or a
 * refusal. An integrity finding about that object, unlike EvidenceStorageError (no answer at all).
 */
export class EvidenceUnreadableError extends EvidenceError {
  override name = 'EvidenceUnreadableError';
  constructor(
    key: string,
    readonly status: number,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(`the store answered HTTP ${status} (${detail})`, key, { cause });
  }
}

/**
 * Raw read access to the evidence store for auditors. Unlike EvidenceStore it never verifies on
 * read: the verifier hashes the bytes itself so that it can report every mismatch, not just the first.
 */
export interface EvidenceReader {
  /** Keys under a prefix that have any version, including those whose latest is a delete marker. */
  list(prefix: string): Promise<string[]>;
  /** The key's versions and delete markers, newest first; null when the bucket keeps no versions. */
  versions(key: string): Promise<ObjectVersion[] | null>;
  /**
   * The object's bytes (the given version, when set), or null when there is no such object. Throws
   * EvidenceUnreadableError when the store answers with an error, EvidenceStorageError when it does not answer.
   */
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
    if (!(await this.bucketIsVersioned())) return this.listCurrent(prefix);
    return [...new Set((await this.listVersions(prefix)).map((v) => v.key))];
  }

  async versions(key: string): Promise<ObjectVersion[] | null> {
    if (!(await this.bucketIsVersioned())) return null;
    return (await this.listVersions(key))
      .filter((v) => v.key === key)
      .map(({ versionId, deleteMarker }) => ({ versionId, deleteMarker }));
  }

  async read(key: string, versionId?: string): Promise<Uint8Array | null> {
    const pinned = versionId !== undefined && (await this.bucketIsVersioned()) ? versionId : undefined;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: pinned }));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      const status = httpStatus(err);
      if (status === 404 || (err as Error).name === 'NoSuchKey' || (err as Error).name === 'NoSuchVersion') return null;
      if (status !== undefined) throw new EvidenceUnreadableError(key, status, err);
      throw new EvidenceStorageError('get', key, err);
    }
  }

  /** Versions and delete markers under a prefix, each key's newest first (S3's order). */
  private async listVersions(prefix: string): Promise<Array<ObjectVersion & { key: string }>> {
    const out: Array<ObjectVersion & { key: string }> = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const res = await this.call('list versions', prefix, () =>
        this.s3.send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        ),
      );
      // Versions and markers come in two lists; merge them back into newest-first order per key.
      const page = [
        ...(res.Versions ?? []).map((v) => ({ ...v, deleteMarker: false })),
        ...(res.DeleteMarkers ?? []).map((m) => ({ ...m, deleteMarker: true })),
      ]
        .filter((v) => v.Key && v.VersionId)
        .sort((a, b) => (a.Key! < b.Key! ? -1 : a.Key! > b.Key! ? 1 : newestFirst(a, b)));
      for (const v of page) out.push({ key: v.Key!, versionId: v.VersionId!, deleteMarker: v.deleteMarker });
      if (!res.IsTruncated || !res.NextKeyMarker) break;
      keyMarker = res.NextKeyMarker;
      versionIdMarker = res.NextVersionIdMarker;
    }
    return out;
  }

  private async listCurrent(prefix: string): Promise<string[]> {
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

  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new EvidenceStorageError(op, key, err);
    }
  }
}

interface Listed {
  IsLatest?: boolean;
  LastModified?: Date;
}

/** The latest first, then by time (newest first). */
function newestFirst(a: Listed, b: Listed): number {
  if (a.IsLatest !== b.IsLatest) return a.IsLatest ? -1 : 1;
  return (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0);
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/**
 * An in-memory store (tests, and auditing a copied-out evidence set). `versions` holds each key's
 * history oldest first, a null body being a delete marker; without it the store keeps no versions.
 */
export class MemoryEvidenceReader implements EvidenceReader {
  constructor(
    readonly objects: Map<string, Uint8Array> = new Map(),
    readonly history?: Map<string, Array<{ versionId: string; bytes: Uint8Array | null }>>,
  ) {}

  list(prefix: string): Promise<string[]> {
    const keys = this.history ? this.history.keys() : this.objects.keys();
    return Promise.resolve([...keys].filter((k) => k.startsWith(prefix)));
  }

  versions(key: string): Promise<ObjectVersion[] | null> {
    if (!this.history) return Promise.resolve(null);
    const h = this.history.get(key) ?? [];
    return Promise.resolve(h.map((v) => ({ versionId: v.versionId, deleteMarker: v.bytes === null })).reverse());
  }

  read(key: string, versionId?: string): Promise<Uint8Array | null> {
    if (!this.history) return Promise.resolve(this.objects.get(key) ?? null);
    const h = this.history.get(key) ?? [];
    const v = versionId === undefined ? h[h.length - 1] : h.find((x) => x.versionId === versionId);
    return Promise.resolve(v?.bytes ?? null);
  }
}
