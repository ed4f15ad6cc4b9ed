import { leafHash, verifyInclusion, type MerkleTreeBuilder } from './merkle';
import { rowDigest, type Cell } from './row-digest';

/** What a reviewer needs, beside the record itself, to prove it was one of the manifest's rows. */
export interface RowInclusionProof {
  index: number;
  treeSize: number;
  root: string;
  rowDigest: string;
  leafHash: string;
  proof: string[];
}

export function rowInclusionProof(tree: MerkleTreeBuilder, index: number, cells?: readonly Cell[]): RowInclusionProof {
  const leaf = tree.leafHashAt(index);
  const digest = cells ? rowDigest(cells) : undefined;
  if (digest && !leafHash(digest).equals(leaf)) throw new Error(`row ${index} does not match the tree's leaf ${index}`);
  return {
    index,
    treeSize: tree.treeSize,
    root: tree.root().toString('hex'),
    rowDigest: digest?.toString('hex') ?? '',
    leafHash: leaf.toString('hex'),
    proof: tree.inclusionProof(index).map((h) => h.toString('hex')),
  };
}

/**
 * True when `cells` (one record, in the manifest's column order) is leaf `proof.index` of the tree whose
 * root is `expectedRoot` (take it from the manifest, not from the proof).
 */
export function verifyRowInclusion(
  cells: readonly Cell[],
  proof: Pick<RowInclusionProof, 'index' | 'treeSize' | 'proof'>,
  expectedRoot: string,
): boolean {
  if (!/^[0-9a-f]{64}$/.test(expectedRoot) || !proof.proof.every((h) => /^[0-9a-f]{64}$/.test(h))) return false;
  return verifyInclusion(
    leafHash(rowDigest(cells)),
    proof.index,
    proof.treeSize,
    proof.proof.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(expectedRoot, 'hex'),
  );
}
