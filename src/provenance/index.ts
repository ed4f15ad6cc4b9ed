// Dataset provenance: row digests, RFC 9162 Merkle trees, inter-rater agreement, patient-level splits and
// the streaming dataset-manifest builder. Pure apart from reading the files it is pointed at.
export { leafHash, nodeHash, merkleRoot, verifyInclusion, MerkleTreeBuilder, EMPTY_ROOT, HASH_BYTES } from './merkle';
export { rowDigest, cellText, ROW_DIGEST_METHOD, ROW_DIGEST_METHOD_ID, type Cell } from './row-digest';
export {
  cohensKappa,
  cohensKappaFromTable,
  fleissKappa,
  agreementFromLabels,
  KappaError,
  type KappaResult,
  type AgreementSummary,
  type RaterLabel,
} from '../stats/kappa';
export { SplitAssigner, splitFor, SPLIT_METHOD } from './split';
export {
  openTable,
  openCsv,
  openParquet,
  formatFromPath,
  TableReadError,
  type TableFormat,
  type TableStream,
} from './table-reader';
export {
  buildDatasetManifest,
  agreementFromFile,
  ManifestInputError,
  type BuildManifestInput,
  type BuiltManifest,
  type SplitKey,
} from './manifest-builder';
export { rowInclusionProof, verifyRowInclusion, type RowInclusionProof } from './inclusion';
export {
  missingProvenanceFields,
  datasetManifestJsonSchema,
  datasetLineageJsonSchema,
} from '../domain/dataset-manifest';
export { readLineage, readSplitKey } from './lineage-file';
