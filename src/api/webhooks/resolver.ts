import { EvidenceNotFoundError } from '../../evidence/errors';
import { sha256Hex } from '../../evidence/canonical-json';

/**
 * Finds the digest of an artifact the event itself does not pin (a git push names a commit, not a
 * model file). The candidate's key comes from the model's keyTemplate; its sha256 is read here.
 */
export interface ArtifactResolver {
  /** The artifact's sha256, or null when nothing is stored at `key` (yet). */
  sha256Of(key: string): Promise<string | null>;
}

/** The slice of EvidenceStore the resolver needs. */
export interface EvidenceReader {
  getBytes(key: string): Promise<Buffer>;
}

/**
 * Reads the object and hashes it. The SNAPSHOT stage verifies the same digest again when it pins
 * the candidate, so a digest read here cannot smuggle in other bytes. (Reads the whole object into
 * memory: fine for the JSON/ONNX sizes Vigil handles today; a streaming hash or a stored digest
 * sidecar would be the next step for large artifacts.)
 */
export function evidenceArtifactResolver(store: EvidenceReader): ArtifactResolver {
  return {
    async sha256Of(key) {
      try {
        return sha256Hex(await store.getBytes(key));
      } catch (err) {
        if (err instanceof EvidenceNotFoundError) return null;
        throw err;
      }
    },
  };
}
