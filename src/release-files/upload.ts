/**
 * Uploading a release plan: each object the store lacks is written create-only through the evidence store
 * (content-addressed, SHA-256 checked by the server, Object Lock retention where configured); objects already
 * there are left alone. Progress is reported per object, with bytes, so a large file shows where it is.
 */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { EvidenceStore } from '../evidence';
import type { PlannedUpload } from './plan';

export interface UploadProgress {
  what: string;
  key: string;
  size: number;
  /** 'stored' = uploaded now; 'present' = the store already had it. */
  state: 'checking' | 'uploading' | 'stored' | 'present';
  /** 1-based position and total. */
  index: number;
  total: number;
}

/** Whether the bucket has `key` (any version). */
export async function hasObject(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    throw err;
  }
}

/** Upload what the store lacks; returns the keys actually written. */
export async function uploadMissing(
  uploads: readonly PlannedUpload[],
  store: { s3: S3Client; evidence: EvidenceStore },
  onProgress: (p: UploadProgress) => void = () => {},
): Promise<{ stored: string[]; present: string[] }> {
  const stored: string[] = [];
  const present: string[] = [];
  for (const [i, u] of uploads.entries()) {
    const at = { what: u.what, key: u.key, size: u.size, index: i + 1, total: uploads.length };
    if (await hasObject(store.s3, store.evidence.bucket, u.key)) {
      present.push(u.key);
      onProgress({ ...at, state: 'present' });
      continue;
    }
    onProgress({ ...at, state: 'uploading' });
    const ref = await store.evidence.putBytes(u.bytes, u.mediaType);
    if (ref.key !== u.key) throw new Error(`stored ${u.what} under ${ref.key}, expected ${u.key}`);
    stored.push(u.key);
    onProgress({ ...at, state: 'stored' });
  }
  return { stored, present };
}

export interface StoredObject {
  key: string;
  size: number;
  lastModified: string | null;
}

/** Objects under a prefix (at most `limit`), in key order. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string, limit = 1000): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        MaxKeys: Math.min(1000, limit),
      }),
    );
    for (const o of res.Contents ?? []) {
      if (out.length >= limit) return out;
      out.push({ key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified?.toISOString() ?? null });
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out;
}
