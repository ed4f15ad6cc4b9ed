/** `vigil release start|status|list|watch`: start, inspect and follow releases through the API. */
import fs from 'node:fs';
import { CommanderError, type Command } from 'commander';
import { ReleaseRequestSchema, STAGES } from '../../domain';
import { issueLine, UsageError, type CliContext } from '../context';
import { formatList, formatStatus } from '../format';
import { describeEvent, watch, type WatchEvent } from '../watch';
import { startFromReleaseFile } from './release-file';

/** Registers `vigil release …`. */
export function registerReleaseCommands(program: Command, ctx: CliContext): void {
  const { io, print, printJson, client } = ctx;
  const release = program.command('release').description('start, inspect and follow releases');

  release
    .command('start')
    .description(
      'start the release lifecycle: from a release file (-f release.yaml: local files, checked offline and uploaded) or a request (JSON file, or - for stdin); starting the same request again joins the running release',
    )
    .argument('[request.json]', 'release request (schema: ReleaseRequestSchema); not with -f')
    .option(
      '-f, --file <release.yaml>',
      'release file naming local models, data, lineage, model card and policy (schemas/release-file.schema.json)',
    )
    .option('--dry-run', 'with -f: only the offline checks; print what would be uploaded and started')
    .option('--json', 'print machine-readable JSON only')
    .action(async (file: string | undefined, opts: { file?: string; dryRun?: boolean; json?: boolean }) => {
      if (opts.file) {
        if (file) throw new UsageError('give a release file (-f) or a request file, not both');
        return startFromReleaseFile(ctx, opts.file, { dryRun: opts.dryRun === true, json: opts.json === true });
      }
      if (!file) throw new UsageError('name a request file, or a release file with -f (run with --help for usage)');
      if (opts.dryRun) throw new UsageError('--dry-run needs a release file (-f)');
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

  const printJsonLine = (event: WatchEvent): void => io.stdout(`${JSON.stringify(event)}\n`);
  const printHuman = (event: WatchEvent): void => print(describeEvent(event));
  release
    .command('watch')
    .description('follow a release, printing each stage and decision until it ends (exit 0 if RELEASED, 3 otherwise)')
    .argument('<releaseId>')
    .option('--interval <seconds>', 'seconds between polls', parsePositive, 2)
    .option('--json', 'print one JSON event per line')
    .option('--until <stage>', 'stop (exit 0) once the release is at this stage, e.g. AWAITING_APPROVAL')
    .action(async (releaseId: string, opts: { interval: number; json?: boolean; until?: string }) => {
      if (opts.until !== undefined && !(STAGES as readonly string[]).includes(opts.until))
        throw new UsageError(`--until ${opts.until}: not a stage (${STAGES.join(', ')})`);
      ctx.setExit(
        await watch(client(), releaseId, opts.interval * 1000, opts.json ? printJsonLine : printHuman, opts.until),
      );
    });
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
