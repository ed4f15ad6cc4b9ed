import { ErrorType } from '../domain/errors';

/** Base of every failure at the evidence boundary; `key` names the object concerned. */
export class EvidenceError extends Error {
  override name = 'EvidenceError';
  /** Failure type for ApplicationFailure, when one applies (see domain/errors). */
  readonly type: string | undefined;
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown; type?: string },
  ) {
    super(`${message} [key=${key}]`, { cause: options?.cause });
    this.type = options?.type;
  }
}

/** A create-only write found different bytes already at the key: never overwrite evidence. */
export class EvidenceConflictError extends EvidenceError {
  override name = 'EvidenceConflictError';
  constructor(
    key: string,
    readonly existingSha256: string,
    readonly newSha256: string,
  ) {
    super(`evidence conflict: existing sha256 ${existingSha256} != new ${newSha256}`, key, {
      type: ErrorType.EvidenceConflict,
    });
  }
}

/** Bytes read back do not hash to the expected digest: tampering or corruption. */
export class EvidenceIntegrityError extends EvidenceError {
  override name = 'EvidenceIntegrityError';
  constructor(
    key: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(`evidence integrity failure: expected sha256 ${expectedSha256}, got ${actualSha256}`, key, {
      type: ErrorType.EvidenceIntegrity,
    });
  }
}

export class EvidenceNotFoundError extends EvidenceError {
  override name = 'EvidenceNotFoundError';
  constructor(key: string, versionId?: string) {
    super(`evidence not found${versionId ? ` (version ${versionId})` : ''}`, key);
  }
}

/** The store could not be reached or answered unexpectedly; usually worth retrying. */
export class EvidenceStorageError extends EvidenceError {
  override name = 'EvidenceStorageError';
  constructor(operation: string, key: string, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`evidence store ${operation} failed: ${detail}`, key, { cause });
  }
}
