/**
 * Evidence key rules: where named (not content-addressed) evidence objects live in the bucket. Writers
 * (src/activities) and readers (audit, UI, tests) build keys with these functions only, so they cannot drift.
 */

/** A release's evidence-chain pointer; zero-padded so the pointers sort in order when listed. */
export function chainKey(releaseId: string, seq: number): string {
  return `releases/${releaseId}/chain/${String(seq).padStart(6, '0')}`;
}

/** The system's DSSE envelope over a signature record sits next to it, named by the record's digest. */
export function signatureEnvelopeKey(releaseId: string, recordSha256: string): string {
  return `releases/${releaseId}/signatures/${recordSha256}.dsse.json`;
}

/** A released model's provenance record (what it was built from), one per model digest. */
export function provenanceKey(modelName: string, modelSha256: string): string {
  return `models/${modelName}/${modelSha256}/provenance.json`;
}
