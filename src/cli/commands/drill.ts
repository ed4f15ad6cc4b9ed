/**
 * `vigil drill rollback`: rehearse the automatic rollback against a simulated regression (src/workflows/
 * rollback-drill.ts) on a drill route table, follow it look by look, and write the drill report.
 */
import fs from 'node:fs';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Command } from 'commander';
import { describeRun, S3EvidenceReader } from '../../audit';
import { payloadDataConverter } from '../../codec';
import type { VigilConfig } from '../../config';
import {
  ReleaseRequestSchema,
  SequentialGuardrailsSchema,
  type DrillInput,
  type DrillLook,
  type DrillReport,
  type DrillResult,
  type ReleaseRequest,
} from '../../domain';
import { drillStatusQuery, ORCHESTRATION_TASK_QUEUE } from '../../domain/messages';
import { createS3Client } from '../../evidence';
import { renderDrillReportHtml } from '../../report';
import { AuditExit, guarded } from './audit';
import { CliInputError, numberOption, parseWith, readStructured, scenarioFromOptions } from './input-files';
import type { CommandIo } from '../context';

type Io = CommandIo;

interface DrillOptions {
  request?: string;
  scenario?: string;
  guardrails?: string;
  site: string;
  feature: string;
  scale: number;
  offset: number;
  fromInterval: number;
  labelledShare: number;
  bake?: number;
  id?: string;
  by: string;
  html?: string;
  json?: boolean;
  timeout: number;
}

const HELP = `
The drill takes the candidate, incumbent and canary policy of a release (or a request file) and runs the
canary steps on the route table "<model>.drill", which no patient traffic uses, while the simulated world
has a fault in the candidate's feature pipeline at one site (--site/--feature/--scale/--offset, or
--scenario). The release's own sequential guardrails judge every interval. The drill passes when they
catch the regression, routes return to the incumbent, and the rollback record and notification (marked
DRILL) exist. The report is evidence (vigil.drill-report/v1); --html writes it with a plot.

Exit codes: 0 drill passed; 2 usage/configuration error; 3 the drill failed (regression missed, routes not
restored or no notification) or was refused; 4 Temporal or the evidence store unreachable.`;

export function registerDrillCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const print = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const num = numberOption;
  const drill =
    program.commands.find((c) => c.name() === 'drill') ??
    program.command('drill').description('rehearse what Vigil does when a release goes wrong');
  drill
    .command('rollback')
    .description(
      "rehearse the automatic rollback: a release's canary against a simulated regression at one site (exit 0 if caught and routes came back)",
    )
    .argument('[releaseId]', 'take candidate, incumbent and policy from this release (its workflow input)')
    .option('--request <file>', 'or from a release request (JSON)')
    .option('--scenario <file>', 'a traffic scenario (JSON or YAML) instead of the --site/--feature fault')
    .option('--guardrails <file>', 'sequential guardrails (JSON or YAML) when the policy has none (canary.sequential)')
    .option('--site <site>', 'site whose candidate pipeline is faulty', 'site-b')
    .option('--feature <name>', 'feature the faulty pipeline corrupts', 'x0')
    .option(
      '--scale <n>',
      'the candidate sees scale·x + offset (default: x stuck at -3, a unit mix-up)',
      num('scale'),
      0,
    )
    .option('--offset <n>', 'see --scale', num('offset'), -3)
    .option('--from-interval <n>', 'canary interval (0-based) the fault starts at', num('from-interval'), 0)
    .option(
      '--labelled-share <p>',
      'share of outcomes arrived at each analysis (delayed ground truth)',
      num('labelled-share'),
      1,
    )
    .option('--bake <seconds>', "seconds per canary interval for the rehearsal (default: the policy's)", num('bake'))
    .option('--id <drillId>', 'workflow id (default drill-<model>-<time>)')
    .option('--by <name>', 'who runs the drill (recorded)', process.env.USER ?? 'vigil-cli')
    .option('--html <file>', 'write the drill report as HTML with a plot')
    .option('--json', 'print each look as a JSON line and the report as JSON')
    .option('--timeout <seconds>', 'give up waiting after this long (the drill keeps running)', num('timeout'), 900)
    .addHelpText('after', HELP)
    .action(async (releaseId: string | undefined, opts: DrillOptions) => {
      setExit(
        await guarded(io, async (config) => {
          try {
            return await runDrill(config, io, releaseId, opts, print);
          } catch (err) {
            if (err instanceof CliInputError) {
              io.stderr(`vigil: ${err.message}\n`);
              return AuditExit.usage;
            }
            throw err;
          }
        }),
      );
    });
}

async function runDrill(
  config: VigilConfig,
  io: Io,
  releaseId: string | undefined,
  opts: DrillOptions,
  print: (t: string) => void,
): Promise<number> {
  if (!releaseId === !opts.request) throw new CliInputError('name a release id or give --request <file> (one of them)');
  const scenario = scenarioFromOptions(opts);
  const guardrails = opts.guardrails
    ? parseWith(SequentialGuardrailsSchema, readStructured(opts.guardrails), opts.guardrails)
    : undefined;

  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5 seconds' });
  } catch (err) {
    io.stderr(`vigil: Temporal at ${config.temporal.address} unreachable: ${(err as Error).message}\n`);
    return AuditExit.unreachable;
  }
  const dataConverter = payloadDataConverter(config.payloadCodec);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  try {
    const request = releaseId
      ? await requestOfRelease(client, releaseId, dataConverter?.payloadCodecs ?? [])
      : parseWith(ReleaseRequestSchema, readStructured(opts.request!), opts.request!);
    if (opts.bake !== undefined) {
      if (opts.bake <= 0) throw new CliInputError('--bake must be a positive number of seconds');
      for (const s of request.policy.canary.steps) s.bakeSeconds = opts.bake;
    }
    if (!request.policy.canary.sequential && !guardrails) {
      throw new CliInputError(
        `policy ${request.policy.id}@${request.policy.version} has no sequential canary guardrails (canary.sequential); give some with --guardrails <file>`,
      );
    }
    const drillId =
      opts.id ??
      `drill-${request.modelName}-${new Date()
        .toISOString()
        .replace(/[-:.TZ]/g, '')
        .slice(0, 14)}`;
    const input: DrillInput = {
      request,
      scenario,
      requestedBy: opts.by,
      ...(guardrails ? { guardrails } : {}),
      ...(releaseId ? { fromRelease: releaseId } : {}),
    };
    const handle = await client.workflow.start('rollbackDrill', {
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      workflowId: drillId,
      args: [input],
    });
    if (!opts.json) {
      print(
        `drill ${drillId}: ${request.modelName} ${request.candidate.version} vs ${request.incumbent.version} on route table ${request.modelName}.drill`,
      );
      print(`scenario: ${scenario.name}`);
    }

    // Progress: one line per judged look, until the drill ends.
    let shown = 0;
    const show = (looks: DrillLook[]) => {
      for (const l of looks.slice(shown)) {
        if (opts.json) io.stdout(`${JSON.stringify({ event: 'look', drillId, ...l })}\n`);
        else print(formatLook(l));
      }
      shown = Math.max(shown, looks.length);
    };
    const done = handle.result();
    let finished = false;
    void done.then(
      () => (finished = true),
      () => (finished = true),
    );
    const deadline = Date.now() + opts.timeout * 1000;
    while (!finished && Date.now() < deadline) {
      const status = await handle.query(drillStatusQuery).catch(() => null);
      if (status) show(status.looks);
      await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    if (!finished) {
      io.stderr(`vigil: drill ${drillId} still running after ${opts.timeout} s; follow it in the Temporal UI\n`);
      return AuditExit.failed;
    }
    let result: DrillResult;
    try {
      result = await done;
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
      io.stderr(`vigil: drill ${drillId} refused: ${cause}\n`);
      return AuditExit.failed;
    }
    const report = await readReport(config, result.report.key);
    show(report.looks);
    if (opts.html) fs.writeFileSync(opts.html, renderDrillReportHtml(report));
    if (opts.json) io.stdout(`${JSON.stringify({ event: 'report', key: result.report.key, report }, null, 2)}\n`);
    else {
      print(result.summary);
      if (report.rollback) {
        print(`rollback record: ${report.rollback.record.key}`);
        print(`notification:    ${report.rollback.notification?.key ?? 'NOT delivered'}`);
      }
      print(`drill report:    ${result.report.key}${opts.html ? ` (HTML: ${opts.html})` : ''}`);
    }
    return result.passed ? AuditExit.ok : AuditExit.failed;
  } finally {
    await connection.close();
  }
}

function formatLook(l: DrillLook): string {
  const s = (x: number | null) => (x === null ? '   —  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
  const b = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  const where = `step ${l.step + 1}${l.extension ? `+${l.extension}` : ''} (${l.percent}%)`;
  return `look ${String(l.look).padStart(2)}  ${where.padEnd(16)} canary ${s(l.canary.sensitivity)} (${l.canary.positives} pos)  control ${s(l.control.sensitivity)} (${l.control.positives} pos)  drop ${b(l.drop)} [${b(l.lower)}, ${b(l.upper)}]  ${l.verdict.toUpperCase()}`;
}

/** The release's request, exactly as its workflow received it (first event of its history). */
async function requestOfRelease(
  client: Client,
  releaseId: string,
  codecs: Parameters<typeof describeRun>[4],
): Promise<ReleaseRequest> {
  let json: string;
  try {
    const history = await client.workflow.getHandle(releaseId).fetchHistory();
    json = historyToJSON(history);
  } catch (err) {
    throw new CliInputError(
      `release ${releaseId} not found in Temporal (${(err as Error).message}); use --request <file>`,
    );
  }
  const run = await describeRun(releaseId, '', 'temporal', json, codecs);
  if (run.workflowType !== 'releaseLifecycle')
    throw new CliInputError(`${releaseId} is a ${run.workflowType}, not a release`);
  return parseWith(ReleaseRequestSchema, run.input, `the input of ${releaseId}`);
}

async function readReport(config: VigilConfig, key: string): Promise<DrillReport> {
  const s3 = createS3Client(config.s3);
  try {
    const bytes = await new S3EvidenceReader(s3, config.s3.bucket).read(key);
    if (!bytes) throw new Error(`drill report ${key} is missing from the evidence store`);
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as DrillReport;
  } finally {
    s3.destroy();
  }
}
