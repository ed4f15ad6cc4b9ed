import crypto from 'node:crypto';

/**
 * Signing sits behind this interface so a KMS/HSM can implement it (the private key never has to be in
 * process memory). `keyId` is an unauthenticated hint for verifiers, per DSSE.
 */
export interface Signer {
  readonly keyId: string;
  sign(payload: Buffer): Promise<Buffer>;
}

export interface Verifier {
  readonly keyId: string;
  verify(payload: Buffer, signature: Buffer): Promise<boolean>;
}

/** Key id: lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo (stable across PEM/JWK forms). */
export function keyIdFor(publicKey: crypto.KeyObject): string {
  return crypto
    .createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export class Ed25519Signer implements Signer {
  readonly keyId: string;

  constructor(private readonly privateKey: crypto.KeyObject) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('Ed25519Signer needs an Ed25519 private key');
    }
    this.keyId = keyIdFor(crypto.createPublicKey(privateKey));
  }

  static fromPem(pem: string): Ed25519Signer {
    return new Ed25519Signer(crypto.createPrivateKey(pem));
  }

  publicKey(): crypto.KeyObject {
    return crypto.createPublicKey(this.privateKey);
  }

  sign(payload: Buffer): Promise<Buffer> {
    // Ed25519 is pure EdDSA: node takes `null` as the digest, the message is hashed inside the scheme.
    return Promise.resolve(crypto.sign(null, payload, this.privateKey));
  }
}

/**
 * Verifies with a public key held in process: Ed25519, or ECDSA (P-256 with SHA-256, signatures as raw r||s
 * as DSSE's reference test vector uses) so envelopes signed elsewhere can be checked too.
 */
export class PublicKeyVerifier implements Verifier {
  readonly keyId: string;

  constructor(private readonly publicKey: crypto.KeyObject) {
    if (publicKey.type !== 'public') throw new TypeError('PublicKeyVerifier needs a public key');
    const kind = publicKey.asymmetricKeyType;
    if (kind !== 'ed25519' && kind !== 'ec') throw new TypeError(`unsupported key type ${kind ?? 'unknown'}`);
    this.keyId = keyIdFor(publicKey);
  }

  static fromPem(pem: string): PublicKeyVerifier {
    // Accepts a private key PEM too (its public half is taken), which is what a dev setup has at hand.
    const key = crypto.createPublicKey(pem);
    return new PublicKeyVerifier(key);
  }

  verify(payload: Buffer, signature: Buffer): Promise<boolean> {
    try {
      if (this.publicKey.asymmetricKeyType === 'ed25519')
        return Promise.resolve(crypto.verify(null, payload, this.publicKey, signature));
      return Promise.resolve(
        crypto.verify('sha256', payload, { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, signature),
      );
    } catch {
      return Promise.resolve(false);
    }
  }
}
