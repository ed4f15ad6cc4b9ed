/**
 * `vigil attest verify`: DSSE signature(s) against the given trusted keys, then the in-toto statement
 * (predicate type, subject digest). Exit 0 all verified; 2 usage or unreadable input; 3 one failed verification.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Command } from 'commander';
import { PublicKeyVerifier, verifyAttestation, type AttestationVerification } from '../../attestation';
import { Exit, UsageError, type CliContext } from '../context';

type VerifyOptions = { key: string[]; threshold?: string; predicateType?: string; artifact?: string; json?: boolean };
type Verified = { file: string; result: AttestationVerification };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `vigil attest …`. */
export function registerAttestCommands(program: Command, ctx: CliContext): void {
  const attest = program.command('attest').description('verify DSSE / in-toto attestations (local files)');
  attest
    .command('verify')
    .description(
      'verify DSSE envelopes against trusted public keys, then their in-toto statements (exit 3 if any fails)',
    )
    .argument('<envelope...>', 'DSSE envelope file(s), JSON')
    .option('--key <pem>', 'a trusted public key, PEM (repeatable; at least one)', collect, [])
    .option('--threshold <n>', 'signatures by distinct trusted keys required (default 1)')
    .option('--predicate-type <uri>', 'the predicate type the statement must have')
    .option('--artifact <file>', "a file whose sha256 must be one of the statement's subjects")
    .option('--json', 'print machine-readable JSON only')
    .action(async (files: string[], o: VerifyOptions) => ctx.setExit(await guard(ctx, () => verify(ctx, files, o))));
}

async function verify(ctx: CliContext, files: string[], o: VerifyOptions): Promise<number> {
  if (!o.key.length) throw new UsageError('at least one --key is required (a trusted public key, PEM)');
  const threshold = o.threshold === undefined ? 1 : Number(o.threshold);
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new UsageError('--threshold must be a positive integer');
  const verifiers = o.key.map((file) => {
    try {
      return PublicKeyVerifier.fromPem(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot use key ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  });
  let subjectSha256: string | undefined;
  if (o.artifact) {
    try {
      subjectSha256 = crypto.createHash('sha256').update(fs.readFileSync(o.artifact)).digest('hex');
    } catch {
      throw new UsageError(`artifact not found: ${o.artifact}`);
    }
  }
  const results: Verified[] = [];
  for (const file of files) {
    const result = await verifyAttestation(readEnvelope(file), verifiers, {
      threshold,
      ...(o.predicateType ? { predicateType: o.predicateType } : {}),
      ...(subjectSha256 ? { subjectSha256 } : {}),
    });
    results.push({ file, result });
  }
  if (o.json) ctx.printJson(results.map(asJson));
  else for (const r of results) ctx.io.stdout(`${describe(r)}\n`);
  return results.every((r) => r.result.ok) ? Exit.ok : Exit.refused;
}

function readEnvelope(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UsageError(missing ? `envelope not found: ${file}` : `${file}: not JSON`);
  }
}

function asJson({ file, result }: Verified) {
  return {
    file,
    ok: result.ok,
    reasons: result.reasons,
    acceptedKeyIds: result.acceptedKeyIds,
    predicateType: result.statement?.predicateType,
    subject: result.statement?.subject,
  };
}

function describe({ file, result }: Verified): string {
  if (!result.ok) return `FAILED  ${file}: ${result.reasons.join('; ')}`;
  const s = result.statement!;
  const subjects = s.subject.map((x) => `${x.name}@sha256:${x.digest.sha256 ?? Object.values(x.digest)[0]}`).join(', ');
  return `OK      ${file}: ${s.predicateType} for ${subjects}; signed by ${result.acceptedKeyIds.join(', ')}`;
}

/** Usage problems are one `error:` line and exit 2; anything else is an internal error (exit 1). */
async function guard(ctx: CliContext, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.io.stderr(`error: ${err.message}\n`);
      return Exit.usage;
    }
    ctx.io.stderr(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return Exit.internal;
  }
}
