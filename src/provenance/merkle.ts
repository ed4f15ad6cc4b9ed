import crypto from 'node:crypto';

/**
 * RFC 9162 §2.1 (same as RFC 6962 §2.1) Merkle Tree Hash over SHA-256:
 *   MTH({})      = SHA-256()
 *   leaf hash    = SHA-256(0x00 || leaf data)
 *   node hash    = SHA-256(0x01 || left || right)
 *   MTH(D[0:n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 * Domain separation (0x00 / 0x01) stops a leaf from being passed off as an inner node.
 */

export const HASH_BYTES = 32;
// crypto.hash (one-shot, Node >= 20.12) is much faster than createHash for millions of small inputs.
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
function sha256(bytes: Uint8Array): Buffer {
  return oneShot ? oneShot('sha256', bytes, 'buffer') : crypto.createHash('sha256').update(bytes).digest();
}

// Reused input buffers: hashing is synchronous, so no two calls can interleave.
const leafScratch = Buffer.allocUnsafe(1 + HASH_BYTES);
const nodeScratch = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
nodeScratch[0] = 0x01;

export function leafHash(data: Uint8Array): Buffer {
  if (data.length !== HASH_BYTES) return sha256(Buffer.concat([Buffer.from([0x00]), data]));
  leafScratch[0] = 0x00;
  leafScratch.set(data, 1);
  return sha256(leafScratch);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES)
    return sha256(Buffer.concat([Buffer.from([0x01]), left, right]));
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_BYTES);
  return sha256(nodeScratch);
}

export const EMPTY_ROOT = sha256(new Uint8Array(0));

/**
 * Appends leaves one at a time, keeping the O(log n) frontier of perfect subtrees for the root and, for
 * inclusion proofs, every leaf hash in one growable Buffer (32 bytes per leaf).
 */
export class MerkleTreeBuilder {
  private leaves: Buffer;
  private size = 0;
  /** Roots of the perfect subtrees covering [0, size), left to right, with their heights. */
  private readonly frontier: { height: number; hash: Buffer }[] = [];

  constructor(expectedLeaves = 1024) {
    this.leaves = Buffer.allocUnsafe(Math.max(1, expectedLeaves) * HASH_BYTES);
  }

  /** Append leaf data (hashed with the 0x00 prefix). */
  append(data: Uint8Array): void {
    this.push(leafHash(data));
  }

  appendLeafHash(hash: Uint8Array): void {
    if (hash.length !== HASH_BYTES) throw new RangeError('leaf hash must be 32 bytes');
    this.push(Buffer.from(hash));
  }

  /** `hash` must not be mutated afterwards: it may become part of the frontier. */
  private push(hash: Buffer): void {
    if ((this.size + 1) * HASH_BYTES > this.leaves.length) {
      const grown = Buffer.allocUnsafe(this.leaves.length * 2);
      this.leaves.copy(grown, 0, 0, this.size * HASH_BYTES);
      this.leaves = grown;
    }
    this.leaves.set(hash, this.size * HASH_BYTES);
    this.size += 1;
    let height = 0;
    let node = hash;
    let top = this.frontier[this.frontier.length - 1];
    while (top && top.height === height) {
      this.frontier.pop();
      node = nodeHash(top.hash, node);
      height += 1;
      top = this.frontier[this.frontier.length - 1];
    }
    this.frontier.push({ height, hash: node });
  }

  get treeSize(): number {
    return this.size;
  }

  /** Folding the frontier right to left gives exactly RFC 9162's split at the largest power of two. */
  root(): Buffer {
    if (this.size === 0) return Buffer.from(EMPTY_ROOT);
    let acc = this.frontier[this.frontier.length - 1]!.hash;
    for (let i = this.frontier.length - 2; i >= 0; i--) acc = nodeHash(this.frontier[i]!.hash, acc);
    return acc;
  }

  leafHashAt(index: number): Buffer {
    checkIndex(index, this.size);
    return Buffer.from(this.leaves.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES));
  }

  /** RFC 9162 §2.1.3.1 PATH(m, D[n]); O(n) hashing, fine for one record at a time. */
  inclusionProof(index: number): Buffer[] {
    checkIndex(index, this.size);
    const proof: Buffer[] = [];
    this.path(index, 0, this.size, proof);
    return proof;
  }

  /** The stored leaf hashes, e.g. to persist beside the manifest for later proofs. */
  leafHashes(): Buffer {
    return this.leaves.subarray(0, this.size * HASH_BYTES);
  }

  static fromLeafHashes(hashes: Uint8Array): MerkleTreeBuilder {
    if (hashes.length % HASH_BYTES !== 0) throw new RangeError('leaf hash buffer is not a multiple of 32 bytes');
    const tree = new MerkleTreeBuilder(hashes.length / HASH_BYTES);
    for (let off = 0; off < hashes.length; off += HASH_BYTES)
      tree.appendLeafHash(hashes.subarray(off, off + HASH_BYTES));
    return tree;
  }

  private path(m: number, start: number, n: number, out: Buffer[]): void {
    if (n <= 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      this.path(m, start, k, out);
      out.push(this.subtreeHash(start + k, n - k));
    } else {
      this.path(m - k, start + k, n - k, out);
      out.push(this.subtreeHash(start, k));
    }
  }

  private subtreeHash(start: number, n: number): Buffer {
    if (n === 1) return this.leaves.subarray(start * HASH_BYTES, (start + 1) * HASH_BYTES);
    const k = largestPowerOfTwoBelow(n);
    return nodeHash(this.subtreeHash(start, k), this.subtreeHash(start + k, n - k));
  }
}

/** Root of a whole list of leaf data items (test helper and small inputs). */
export function merkleRoot(leafData: Iterable<Uint8Array>): Buffer {
  const tree = new MerkleTreeBuilder();
  for (const d of leafData) tree.append(d);
  return tree.root();
}

/**
 * RFC 9162 §2.1.3.2: verify that `leafHashValue` is the leaf at `index` of the tree of `treeSize` leaves
 * whose root is `root`. Returns false (never throws) for any malformed input.
 */
export function verifyInclusion(
  leafHashValue: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  if (leafHashValue.length !== HASH_BYTES || root.length !== HASH_BYTES) return false;
  // BigInt keeps the shifts exact beyond 2^31.
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r: Buffer = Buffer.from(leafHashValue);
  for (const p of proof) {
    if (p.length !== HASH_BYTES || sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && crypto.timingSafeEqual(r, Buffer.from(root));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} out of range for tree of ${size}`);
  }
}
