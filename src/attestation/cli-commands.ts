import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyAttestation, type AttestationVerification } from './attest';
import { PublicKeyVerifier } from './signer';

/** The slice of the CLI's io these commands use (compatible with `CliIo` in src/cli/program.ts). */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** 0 all verified; 2 usage or unreadable input; 3 at least one attestation failed verification. */
export const AttestExit = { ok: 0, internal: 1, usage: 2, failed: 3 } as const;

export const ATTEST_VERIFY_USAGE =
  'usage: vigil attest verify <envelope.json>... --key <public-key.pem> [--key ...] [--threshold n] ' +
  '[--predicate-type uri] [--artifact file] [--json]';

class UsageError extends Error {}

/** `vigil attest verify`: DSSE signature(s) against the given trusted keys, then the in-toto statement. */
export async function runAttestVerify(args: string[], io: CommandIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          key: { type: 'string', multiple: true },
          threshold: { type: 'string' },
          'predicate-type': { type: 'string' },
          artifact: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
    } catch (err) {
      throw new UsageError(`${(err as Error).message}\n${ATTEST_VERIFY_USAGE}`);
    }
    const { values, positionals } = parsed;
    if (positionals.length === 0) throw new UsageError(`no envelope given\n${ATTEST_VERIFY_USAGE}`);
    if (!values.key?.length)
      throw new UsageError(`at least one --key is required (a trusted public key, PEM)\n${ATTEST_VERIFY_USAGE}`);
    const threshold = values.threshold === undefined ? 1 : Number(values.threshold);
    if (!Number.isSafeInteger(threshold) || threshold < 1)
      throw new UsageError('--threshold must be a positive integer');

    const verifiers = values.key.map((file) => {
      try {
        return PublicKeyVerifier.fromPem(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot use key ${file}: ${(err as Error).message.split('\n')[0]}`);
      }
    });
    let subjectSha256: string | undefined;
    if (values.artifact) {
      try {
        subjectSha256 = crypto.createHash('sha256').update(fs.readFileSync(values.artifact)).digest('hex');
      } catch {
        throw new UsageError(`artifact not found: ${values.artifact}`);
      }
    }

    const results: { file: string; result: AttestationVerification }[] = [];
    for (const file of positionals) {
      let envelope: unknown;
      try {
        envelope = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        throw new UsageError(missing ? `envelope not found: ${file}` : `${file}: not JSON`);
      }
      const result = await verifyAttestation(envelope, verifiers, {
        threshold,
        ...(values['predicate-type'] ? { predicateType: values['predicate-type'] } : {}),
        ...(subjectSha256 ? { subjectSha256 } : {}),
      });
      results.push({ file, result });
    }

    const allOk = results.every((r) => r.result.ok);
    if (values.json) {
      io.stdout(
        `${JSON.stringify(
          results.map(({ file, result }) => ({
            file,
            ok: result.ok,
            reasons: result.reasons,
            acceptedKeyIds: result.acceptedKeyIds,
            predicateType: result.statement?.predicateType,
            subject: result.statement?.subject,
          })),
          null,
          2,
        )}\n`,
      );
    } else {
      for (const { file, result } of results) {
        if (result.ok) {
          const s = result.statement!;
          const subjects = s.subject
            .map((x) => `${x.name}@sha256:${x.digest.sha256 ?? Object.values(x.digest)[0]}`)
            .join(', ');
          io.stdout(
            `OK      ${file}: ${s.predicateType} for ${subjects}; signed by ${result.acceptedKeyIds.join(', ')}\n`,
          );
        } else {
          io.stdout(`FAILED  ${file}: ${result.reasons.join('; ')}\n`);
        }
      }
    }
    return allOk ? AttestExit.ok : AttestExit.failed;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n`);
      return AttestExit.usage;
    }
    io.stderr(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return AttestExit.internal;
  }
}
