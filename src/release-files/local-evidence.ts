/**
 * An in-memory EvidencePort over local files, so the offline checks of a release file read models and data
 * through the very code the worker uses (readDataset, openScorer) before anything is uploaded. It keeps the
 * store's contract (named keys are create-only: different bytes at a taken key are a conflict), so a check that
 * passes here is not refused by the store; tests use it as their in-memory store too.
 */
import type { EvidencePort } from '../contracts/ports';
import type { EvidenceRef } from '../domain/evidence';
import { canonicalBytes, contentKey, JSON_MEDIA_TYPE, sha256Hex } from '../evidence';
import { EvidenceConflictError, EvidenceIntegrityError, EvidenceNotFoundError } from '../evidence/errors';

export class LocalEvidence implements EvidencePort {
  readonly objects = new Map<string, Buffer>();

  async putJson(value: unknown): Promise<EvidenceRef> {
    return this.putBytes(canonicalBytes(value), JSON_MEDIA_TYPE);
  }

  async putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef> {
    const sha256 = sha256Hex(bytes);
    const key = contentKey(sha256);
    this.objects.set(key, Buffer.from(bytes));
    return { key, sha256, size: bytes.length, mediaType };
  }

  async putNamed(key: string, value: unknown): Promise<EvidenceRef> {
    const bytes = Buffer.from(canonicalBytes(value));
    const existing = this.objects.get(key);
    if (existing && !existing.equals(bytes))
      throw new EvidenceConflictError(key, sha256Hex(existing), sha256Hex(bytes));
    this.objects.set(key, bytes);
    return { key, sha256: sha256Hex(bytes), size: bytes.length, mediaType: JSON_MEDIA_TYPE };
  }

  async getBytes(key: string, expectedSha256?: string): Promise<Uint8Array> {
    const bytes = this.objects.get(key);
    if (!bytes) throw new EvidenceNotFoundError(key);
    const actual = sha256Hex(bytes);
    if (expectedSha256 !== undefined && actual !== expectedSha256)
      throw new EvidenceIntegrityError(key, expectedSha256, actual);
    return bytes;
  }
}
