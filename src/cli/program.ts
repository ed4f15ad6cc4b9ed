import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig } from '../config';
import {
  ApprovalInputSchema,
  isTerminal,
  ReleaseRequestSchema,
  RoleSchema,
  WithdrawalInputSchema,
  type ReleaseStatus,
} from '../domain';
import { runAttestVerify } from '../attestation/cli-commands';
import { evidenceStoreFromEnv, runDossierExport } from '../dossier/export';
import { runDatasetManifest, runDatasetProve } from '../provenance/cli-commands';
import { ApiClient, ApiClientError } from './api-client';
import { registerAuditCommands } from './commands/audit';
import { registerDrillCommands } from './commands/drill';
import { registerSimulateCommand } from './commands/simulate';
import { formatDecision, formatList, formatManifestation, formatStatus, stageLabel } from './format';

/** Exit codes: documented in `vigil --help`. */
export const Exit = { ok: 0, internal: 1, usage: 2, refused: 3, failed: 4 } as const;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Reads a password from the terminal without echo; absent or throwing when there is no terminal. */
  promptPassword?: (prompt: string) => Promise<string>;
}

/** Bad input caught before anything is sent: exit 2. */
class UsageError extends Error {}

const HELP_FOOTER = `
Configuration (environment):
  VIGIL_API_URL     base URL of the Vigil API (default http://127.0.0.1:8080)
  VIGIL_API_TOKEN   bearer token; if unset, read from <VIGIL_STATE_DIR>/api-token when that file exists

Signing (vigil approve): you sign as the account --user; the password is asked for at every signature
  (no echo; or --password-stdin), your id and printed name come from the server's users file.
  e.g. vigil approve <releaseId> --user dana.qa --role qa --meaning "approved as quality reviewer" \
         --reason "evidence reviewed" --digest <dossier sha256 from vigil release status>
  vigil withdraw <releaseId> --user dana.qa --reason <text>   take back your approval while sign-off is open
  vigil canary resume|rollback <releaseId> --user sam.clin --role clinical --reason <text>
                    decide on a held canary (pause step, or guardrail failure with canary.onFailure: escalate)

Evidence tools (work on local files, no API needed):
  vigil dataset manifest <data.csv|parquet> --lineage <file> [--out f] [--leaves f] [--split-key f] [--json]
  vigil dataset prove <data> --row <i> [--manifest m] [--json]     prove one record's inclusion (Merkle)
  vigil attest verify <envelope>... --key <pem> [--threshold n] [--json]
  vigil dossier export <releaseId> --pdf out.pdf [--html out.html]   final dossier via headless Chromium

Auditor tools (read the evidence store and Temporal directly with VIGIL_S3_* / VIGIL_TEMPORAL_*):
  vigil evidence verify <releaseId> [--json]                       re-hash the chain and every artifact
  vigil audit <releaseId> [--json] [--html f] [--from-archive]     replay, verify, recompute decisions

Rehearsals (Temporal and the evidence store directly):
  vigil drill rollback <releaseId> [--site s --feature f --scale k] [--html f] [--json]
                    a simulated regression on a drill route table; exit 0 if the guardrails caught it
  vigil simulate [--site s --feature f --scale k] [--events out.ndjson] [--json]
                    the policy's canary in a simulated world, no server needed (exit 0 promoted, 3 rolled back)

Exit codes:
  0  ok (watch: the release was RELEASED)
  2  usage error or bad input (nothing was sent)
  3  refused by the server with a reason (HTTP 4xx); watch: the release ended without being released
  4  server error or API unreachable`;

/** Local evidence tools with their own argument parsing (src/provenance, src/attestation). */
const FILE_COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  'dataset manifest': runDatasetManifest,
  'dataset prove': runDatasetProve,
  'attest verify': runAttestVerify,
  'dossier export': async (args, io) =>
    runDossierExport(args, {
      releaseStatus: (id) => apiClientFrom(io.env).releaseStatus(id),
      evidence: await evidenceStoreFromEnv(io.env),
      stdout: io.stdout,
      stderr: io.stderr,
    }),
};

/** Run the CLI; resolves to the process exit code. Never throws. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const fileCommand = FILE_COMMANDS[argv.slice(0, 2).join(' ')];
  if (fileCommand) return fileCommand(argv.slice(2), io);
  let exitCode: number = Exit.ok;
  const print = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const printJson = (value: unknown): void => io.stdout(`${JSON.stringify(value, null, 2)}\n`);

  let api: ApiClient | undefined;
  const client = (): ApiClient => (api ??= apiClientFrom(io.env));

  const program = new Command('vigil')
    .description('Start, follow and sign ML model releases run by Vigil.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_FOOTER);

  const release = program.command('release').description('start, inspect and follow releases');

  release
    .command('start')
    .description(
      'start the release lifecycle for a request (JSON file, or - for stdin); starting the same request again joins the running release',
    )
    .argument('<request.json>', 'release request: model, candidate, incumbent, datasets, commit, policy, ...')
    .option('--json', 'print machine-readable JSON only')
    .action(async (file: string, opts: { json?: boolean }) => {
      const request = parseRequestFile(file === '-' ? await io.readStdin() : readFile(file), file);
      const res = await client().startRelease(request);
      if (opts.json) return printJson(res);
      print(
        res.started
          ? `started release ${res.releaseId} (run ${res.runId})`
          : `release ${res.releaseId} is already running (run ${res.runId})`,
      );
    });

  release
    .command('status')
    .description('show a release: stage, decisions, dossier digest to sign, signatures')
    .argument('<releaseId>')
    .option('--json', 'print machine-readable JSON only')
    .action(async (releaseId: string, opts: { json?: boolean }) => {
      const status = await client().releaseStatus(releaseId);
      if (opts.json) return printJson(status);
      print(formatStatus(status));
    });

  release
    .command('list')
    .description('list recent releases (newest first, at most 100)')
    .option('--json', 'print machine-readable JSON only')
    .action(async (opts: { json?: boolean }) => {
      const { releases } = await client().listReleases();
      if (opts.json) return printJson(releases);
      print(formatList(releases));
    });

  release
    .command('watch')
    .description('follow a release, printing each stage and decision until it ends (exit 0 if RELEASED, 3 otherwise)')
    .argument('<releaseId>')
    .option('--interval <seconds>', 'seconds between polls', parsePositive, 2)
    .option('--json', 'print one JSON event per line')
    .action(async (releaseId: string, opts: { interval: number; json?: boolean }) => {
      exitCode = await watch(client(), releaseId, opts.interval * 1000, opts.json ? printJson1 : printHuman);
    });
  const printJson1 = (event: WatchEvent): void => io.stdout(`${JSON.stringify(event)}\n`);
  const printHuman = (event: WatchEvent): void => print(describeEvent(event));

  program
    .command('approve')
    .description(
      'sign a release awaiting approval as yourself: your password is checked again for this signature, and your id and ' +
        'printed name come from your account; the signature is bound to the dossier digest you reviewed (see `vigil release status`)',
    )
    .argument('<releaseId>')
    .requiredOption(
      '--user <id>',
      'your user id (must not be the submitter); the password is prompted for without echo',
    )
    .option(
      '--password-stdin',
      'read the password from the first line of stdin instead of prompting (for scripts; never pass it as an argument)',
    )
    .addOption(new Option('--role <role>', 'the role you sign for').choices(RoleSchema.options).makeOptionMandatory())
    .requiredOption('--meaning <text>', 'what the signature means, e.g. "approved for canary release"')
    .requiredOption('--reason <text>', 'why you approve or reject')
    .requiredOption('--digest <sha256>', 'dossier sha256 you reviewed (from `vigil release status`)')
    .option('--reject', 'sign a rejection instead of an approval')
    .option('--json', 'print machine-readable JSON only')
    .action(async (releaseId: string, o: ApproveOptions) => {
      // Everything but the password is checked first, so a typo never costs a password prompt (or a lockout strike).
      const parsed = ApprovalInputSchema.omit({ signer: true, printedName: true }).safeParse({
        role: o.role,
        decision: o.reject ? 'reject' : 'approve',
        meaning: o.meaning,
        reason: o.reason,
        dossierSha256: o.digest.toLowerCase(),
      });
      if (!parsed.success)
        throw new UsageError(`invalid approval: ${issueLine(parsed.error.issues, { dossierSha256: '--digest' })}`);
      const password = await readPassword(io, o.user, o.passwordStdin === true);
      const res = await client().sign(releaseId, { username: o.user, password, ...parsed.data });
      if (o.json) return printJson(res);
      const pending = res.pendingRoles.length ? `pending roles: ${res.pendingRoles.join(', ')}` : 'no roles pending';
      print(
        `${res.repeated ? 'already recorded (nothing new was signed)' : 'signature recorded'} for ${res.releaseId}; ${pending}`,
      );
      print(formatManifestation(res.signature));
      print(`record: ${res.signatureKey}`);
    });

  program
    .command('withdraw')
    .description(
      'withdraw your own approval of a release while sign-off is still open: your password is checked again; the ' +
        'approval stops counting but stays on record with the withdrawal, and you may not sign this release again',
    )
    .argument('<releaseId>')
    .requiredOption('--user <id>', 'your user id (the account that signed); the password is prompted for without echo')
    .option(
      '--password-stdin',
      'read the password from the first line of stdin instead of prompting (for scripts; never pass it as an argument)',
    )
    .requiredOption('--reason <text>', 'why you withdraw your approval')
    .option('--json', 'print machine-readable JSON only')
    .action(async (releaseId: string, o: { user: string; passwordStdin?: boolean; reason: string; json?: boolean }) => {
      const parsed = WithdrawalInputSchema.shape.reason.safeParse(o.reason);
      if (!parsed.success)
        throw new UsageError(`invalid withdrawal: --reason: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const password = await readPassword(io, o.user, o.passwordStdin === true);
      const res = await client().withdraw(releaseId, { username: o.user, password, reason: parsed.data });
      if (o.json) return printJson(res);
      const pending = res.pendingRoles.length ? `pending roles: ${res.pendingRoles.join(', ')}` : 'no roles pending';
      print(`approval withdrawn for ${res.releaseId}; ${pending}`);
      print(`signature: ${res.signatureKey}`);
      print(`withdrawal record: ${res.withdrawalKey}`);
    });

  const canary = program
    .command('canary')
    .description('decide on a held canary (a pause step, or a guardrail failure escalated to a person)');
  for (const decision of ['resume', 'rollback'] as const) {
    canary
      .command(decision)
      .description(
        decision === 'resume'
          ? 'put the held canary back on (after an escalation a new sequential test starts); your password is checked again'
          : 'roll the held canary back to the validated model; your password is checked again',
      )
      .argument('<releaseId>')
      .requiredOption('--user <id>', 'your user id; the password is prompted for without echo')
      .option('--password-stdin', 'read the password from the first line of stdin instead of prompting')
      .requiredOption(
        '--role <role>',
        `the role you decide in (${RoleSchema.options.join(', ')}): one the release requires`,
      )
      .requiredOption('--reason <text>', 'why; recorded with the decision')
      .option('--json', 'print machine-readable JSON only')
      .action(
        async (
          releaseId: string,
          o: { user: string; passwordStdin?: boolean; role: string; reason: string; json?: boolean },
        ) => {
          const role = RoleSchema.safeParse(o.role);
          if (!role.success) throw new UsageError(`--role must be one of ${RoleSchema.options.join(', ')}`);
          if (o.reason.trim() === '') throw new UsageError('--reason must not be empty');
          const password = await readPassword(io, o.user, o.passwordStdin === true);
          const res = await client().decideCanary(releaseId, {
            username: o.user,
            password,
            role: role.data,
            decision,
            reason: o.reason,
          });
          if (o.json) return printJson(res);
          print(
            `canary of ${res.releaseId}: ${res.decision === 'resume' ? 'resumed' : 'rolled back'} (record ${res.record})`,
          );
        },
      );
  }

  registerAuditCommands(program, io, (code) => (exitCode = code));
  registerDrillCommands(program, io, (code) => (exitCode = code));
  registerSimulateCommand(program, io, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help).
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? Exit.ok : Exit.usage;
    }
    if (err instanceof UsageError) {
      io.stderr(`vigil: ${err.message}\n`);
      return Exit.usage;
    }
    if (err instanceof ApiClientError) {
      io.stderr(`vigil: ${err.message}\n`);
      return err.kind === 'refused' ? Exit.refused : Exit.failed;
    }
    io.stderr(`vigil: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    return Exit.internal;
  }
}

interface ApproveOptions {
  user: string;
  passwordStdin?: boolean;
  role: string;
  meaning: string;
  reason: string;
  digest: string;
  reject?: boolean;
  json?: boolean;
}

/** The password for this signing act: from stdin's first line (--password-stdin) or a no-echo terminal prompt. */
async function readPassword(io: CliIo, user: string, fromStdin: boolean): Promise<string> {
  let password: string;
  if (fromStdin) {
    password = (await io.readStdin()).split(/\r?\n/)[0] ?? '';
  } else {
    if (!io.promptPassword) throw new UsageError('no terminal to ask for the password; pipe it with --password-stdin');
    try {
      password = await io.promptPassword(`password for ${user}: `);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (password.length === 0) throw new UsageError('empty password: nothing was sent');
  return password;
}

function apiClientFrom(env: NodeJS.ProcessEnv): ApiClient {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
  let token = config.api.token;
  const tokenFile = path.join(config.stateDir, 'api-token');
  if (token === undefined && fs.existsSync(tokenFile)) token = fs.readFileSync(tokenFile, 'utf8').trim() || undefined;
  return new ApiClient({ baseUrl: config.api.url, token });
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseRequestFile(text: string, file: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  // Checked here too so mistakes surface before anything is sent; the server checks again.
  const parsed = ReleaseRequestSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`invalid release request in ${file}: ${issueLine(parsed.error.issues)}`);
  return parsed.data;
}

function issueLine(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  names: Record<string, string> = {},
): string {
  return issues
    .map((i) => {
      const p = i.path.map(String).join('.');
      return `${names[p] ?? (p || '(input)')}: ${i.message}`;
    })
    .join('; ');
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new CommanderError(
      2,
      'vigil.invalidArgument',
      `error: --interval must be a positive number of seconds, got "${value}"`,
    );
  return n;
}

type WatchEvent =
  | {
      event: 'stage';
      releaseId: string;
      stage: string;
      step: number | null;
      at: string;
      dossierSha256?: string;
      pendingRoles?: string[];
    }
  | {
      event: 'decision';
      releaseId: string;
      stage: string;
      step: number | null;
      at: string;
      verdict: string;
      reasons: string[];
    }
  | { event: 'end'; releaseId: string; outcome: string; reason: string | null; at: string };

const MAX_CONSECUTIVE_POLL_FAILURES = 5;

/** Poll the status, emitting each stage entry and decision once, until the release ends. */
async function watch(
  api: ApiClient,
  releaseId: string,
  intervalMs: number,
  emit: (e: WatchEvent) => void,
): Promise<number> {
  const decided = new Map<number, boolean>();
  let failures = 0;
  let awaitingAnnounced = false;
  for (;;) {
    let s: ReleaseStatus;
    try {
      s = await api.releaseStatus(releaseId);
      failures = 0;
    } catch (err) {
      // Ride out an API restart; a refusal (unknown release) ends the watch at once.
      if (err instanceof ApiClientError && err.kind !== 'refused' && ++failures < MAX_CONSECUTIVE_POLL_FAILURES) {
        await sleep(intervalMs);
        continue;
      }
      throw err;
    }
    s.history.forEach((r, i) => {
      if (isTerminal(r.stage)) return; // reported by the 'end' event
      if (!decided.has(i)) {
        decided.set(i, false);
        emit({ event: 'stage', releaseId, stage: r.stage, step: r.step, at: r.startedAt });
      }
      if (r.decision && !decided.get(i)) {
        decided.set(i, true);
        emit({
          event: 'decision',
          releaseId,
          stage: r.stage,
          step: r.step,
          at: r.endedAt ?? r.startedAt,
          verdict: r.decision.verdict,
          reasons: r.decision.reasons,
        });
      }
    });
    if (s.stage === 'AWAITING_APPROVAL' && s.dossier && !awaitingAnnounced) {
      awaitingAnnounced = true;
      emit({
        event: 'stage',
        releaseId,
        stage: 'AWAITING_APPROVAL',
        step: null,
        at: s.history.at(-1)?.startedAt ?? '',
        dossierSha256: s.dossier.sha256,
        pendingRoles: s.pendingRoles,
      });
    }
    if (isTerminal(s.stage)) {
      const last = s.history.at(-1);
      emit({ event: 'end', releaseId, outcome: s.stage, reason: s.reason, at: last?.endedAt ?? last?.startedAt ?? '' });
      return s.stage === 'RELEASED' ? Exit.ok : Exit.refused;
    }
    await sleep(intervalMs);
  }
}

function describeEvent(e: WatchEvent): string {
  switch (e.event) {
    case 'stage':
      return e.dossierSha256
        ? `${e.at}  awaiting approval: dossier sha256 ${e.dossierSha256}; pending roles ${e.pendingRoles?.join(', ') || '-'}`
        : `${e.at}  ${stageLabel(e)} started`;
    case 'decision':
      return `${e.at}  ${stageLabel(e)} ${formatDecision(e)}`;
    case 'end':
      return `${e.at}  release ${e.releaseId} ended ${e.outcome}${e.reason ? `: ${e.reason}` : ''}`;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
