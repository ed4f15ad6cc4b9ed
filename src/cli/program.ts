/** The `vigil` command tree (commander) and `run`, which maps every outcome to an exit code. */
import { Command, CommanderError } from 'commander';
import { ApiClientError } from './api-client';
import { registerArtifactCommands } from './commands/artifact';
import { registerAttestCommands } from './commands/attest';
import { registerAuditCommands } from './commands/audit';
import { registerDatasetCommands } from './commands/dataset';
import { registerDossierCommands } from './commands/dossier';
import { registerDrillCommands } from './commands/drill';
import { registerInitCommand } from './commands/init';
import { registerModelCommands } from './commands/model';
import { registerOutcomesCommands } from './commands/outcomes';
import { registerReleaseCommands } from './commands/release';
import { registerSignOffCommands } from './commands/sign-off';
import { registerSimulateCommand } from './commands/simulate';
import { createCliContext, Exit, UsageError, type CliIo } from './context';

export { Exit, type CliIo } from './context';

const HELP_FOOTER = `
Configuration (environment):
  VIGIL_API_URL     base URL of the Vigil API (default http://127.0.0.1:8080)
  VIGIL_API_TOKEN   bearer token; if unset, read from <VIGIL_STATE_DIR>/api-token when that file exists

Signing (vigil approve): you sign as the account --user; the password is asked for at every signature
  (no echo; or --password-stdin), your id and printed name come from the server's users file.
  e.g. vigil approve <releaseId> --user dana.qa --role qa --meaning approved \\
         --reason "evidence reviewed" --digest <dossier sha256 from vigil release status>
  vigil withdraw <releaseId> --user dana.qa --reason <text>   take back your approval while sign-off is open
  vigil canary resume|rollback <releaseId> --user sam.clin --role clinical --reason <text>
                    decide on a held canary (pause step, or guardrail failure with canary.onFailure: escalate)

Your own model (docs/own-model.md):
  vigil init <model.onnx> <data.csv> [--incumbent m.onnx] [--dir d]   scaffold a release folder
  vigil release start -f release.yaml [--dry-run] [--json]   check offline, upload what the store lacks, start
  vigil artifact put <file> | get <key> [--out f] | ls [prefix]    single objects in the evidence store (VIGIL_S3_*)
  vigil model register --model n --version v --file m.onnx --card c.yaml [--data f] [--lineage f] [--code-commit c]
                    register the version production serves today (first release, or a pre-Vigil model)

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

/** The whole command tree; `setExit` receives the code a command ends with (default 0). */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('vigil')
    .description('Start, follow and sign ML model releases run by Vigil.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_FOOTER);
  const ctx = createCliContext(io, setExit);
  registerReleaseCommands(program, ctx);
  registerSignOffCommands(program, ctx);
  registerAuditCommands(program, io, setExit);
  registerDrillCommands(program, io, setExit);
  registerSimulateCommand(program, io, setExit);
  registerOutcomesCommands(program, io, setExit);
  registerDatasetCommands(program, ctx);
  registerAttestCommands(program, ctx);
  registerDossierCommands(program, ctx);
  registerInitCommand(program, ctx);
  registerArtifactCommands(program, ctx);
  registerModelCommands(program, ctx);
  return program;
}

/** Run the CLI; resolves to the process exit code. Never throws. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = Exit.ok;
  try {
    await buildProgram(io, (code) => (exitCode = code)).parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return exitCodeOf(err, io);
  }
}

function exitCodeOf(err: unknown, io: CliIo): number {
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
