import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  EMPTY_ROOT,
  leafHash,
  merkleRoot,
  MerkleTreeBuilder,
  nodeHash,
  verifyInclusion,
} from '../../src/provenance/merkle';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// RFC 6962 test data from transparency-dev/merkle testonly/constants.go (LeafInputs, RootHashes) and
// proof/verify_test.go (inclusionProofs, whose leaf numbers there are 1-based).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  hex,
);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: { index: number; size: number; proof: string[] }[] = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

function treeOf(leaves: Buffer[]): MerkleTreeBuilder {
  const t = new MerkleTreeBuilder(1);
  for (const l of leaves) t.append(l);
  return t;
}

describe('RFC 6962 / 9162 Merkle tree', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes (transparency-dev rfc6962_test.go)', () => {
    assert.equal(
      leafHash(Buffer.from('L123456')).toString('hex'),
      '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
    );
    assert.equal(
      nodeHash(Buffer.from('N123'), Buffer.from('N456')).toString('hex'),
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
    assert.equal(EMPTY_ROOT.toString('hex'), ROOTS[0]);
  });

  it('gives the reference root for every tree size 0..8, including unbalanced trees', () => {
    for (let n = 0; n <= 8; n++) assert.equal(merkleRoot(LEAVES.slice(0, n)).toString('hex'), ROOTS[n], `size ${n}`);
  });

  it('produces the reference inclusion proofs, and they verify', () => {
    for (const v of INCLUSION) {
      const tree = treeOf(LEAVES.slice(0, v.size));
      const proof = tree.inclusionProof(v.index);
      assert.deepEqual(
        proof.map((p) => p.toString('hex')),
        v.proof,
        `leaf ${v.index} of ${v.size}`,
      );
      assert.ok(verifyInclusion(leafHash(LEAVES[v.index]!), v.index, v.size, proof, hex(ROOTS[v.size]!)));
    }
    assert.deepEqual(treeOf(LEAVES.slice(0, 1)).inclusionProof(0), []);
  });

  it('rejects a proof checked at the wrong index, size or root, or with a proof element dropped', () => {
    const v = INCLUSION[1]!;
    const proof = v.proof.map(hex);
    const leaf = leafHash(LEAVES[v.index]!);
    const root = hex(ROOTS[v.size]!);
    assert.equal(verifyInclusion(leaf, v.index + 1, v.size, proof, root), false);
    assert.equal(verifyInclusion(leaf, v.index, v.size + 1, proof, root), false);
    assert.equal(verifyInclusion(leaf, v.index, v.size, proof.slice(0, 2), root), false);
    assert.equal(verifyInclusion(leaf, v.index, v.size, [...proof, proof[0]!], root), false);
    assert.equal(verifyInclusion(leaf, v.index, v.size, proof, hex(ROOTS[7]!)), false);
    assert.equal(verifyInclusion(leaf, 8, 8, proof, root), false);
    assert.equal(verifyInclusion(leaf, -1, 8, proof, root), false);
  });

  it('property: every index of every tree size has a proof that verifies, and tampering breaks it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.nat(), (size, seed, pick) => {
        const leaves = Array.from({ length: size }, (_, i) =>
          crypto.createHash('sha256').update(`${seed}:${i}`).digest(),
        );
        const tree = treeOf(leaves);
        const root = tree.root();
        assert.deepEqual(MerkleTreeBuilder.fromLeafHashes(tree.leafHashes()).root(), root);
        for (let i = 0; i < size; i++) {
          assert.ok(
            verifyInclusion(leafHash(leaves[i]!), i, size, tree.inclusionProof(i), root),
            `index ${i} of ${size}`,
          );
        }
        const i = pick % size;
        const proof = tree.inclusionProof(i);
        const tamperedLeaf = Buffer.from(leafHash(leaves[i]!));
        tamperedLeaf[pick % 32]! ^= 1;
        assert.equal(verifyInclusion(tamperedLeaf, i, size, proof, root), false);
        if (proof.length > 0) {
          const bad = proof.map((p) => Buffer.from(p));
          bad[pick % bad.length]![0]! ^= 0x80;
          assert.equal(verifyInclusion(leafHash(leaves[i]!), i, size, bad, root), false);
        }
        if (size > 1) assert.equal(verifyInclusion(leafHash(leaves[i]!), (i + 1) % size, size, proof, root), false);
      }),
      { numRuns: 60 },
    );
  });
});
