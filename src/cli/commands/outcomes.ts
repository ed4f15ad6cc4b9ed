/**
 * `vigil outcomes post <file>`: a hospital system's outcomes (ground truth) to the inference gateway's ingest
 * API, `POST /v2/telemetry/outcomes` (docs/gateway.md). The file is NDJSON, one outcome per line, as the API
 * takes them. Every line is checked before anything is sent; lines without an `event_id` get one derived from
 * the line's bytes, so posting the same file again (after a failure part-way) adds nothing twice.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Command } from 'commander';
import { OutcomeInputSchema } from '../../telemetry/events';
import { CliInputError } from './input-files';
import type { CommandIo } from '../context';

type Io = CommandIo;

interface PostOptions {
  gateway?: string;
  batch: number;
  json?: boolean;
}

/** The gateway takes at most this many events a request. */
const MAX_BATCH = 10_000;

const HELP = `
Each line of <file> (NDJSON; "-" reads stdin) is one outcome:
  {"model":"sepsis-alert","case_id":"enc-123","label":1,"source":"downstream_outcome","observed_at":"2026-03-01T10:00:00Z"}
with case_id (hashed by the gateway) or case_id_hash, label 0 or 1, source one of clinician_review,
downstream_outcome, complaint, and optional event_id (one is derived from the line otherwise, so re-posting
a file is idempotent). Every line is validated first: a bad line posts nothing (exit 2). The gateway answers
202 only once a batch is durable; on a refused or failed batch the command stops and says which lines were
not posted (exit 1); post the file again.

Gateway: --gateway or VIGIL_GATEWAY_URL. Token: VIGIL_GATEWAY_INGEST_TOKEN (or VIGIL_GATEWAY_CONTROL_TOKEN).`;

export function registerOutcomesCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const outcomes = program.command('outcomes').description("outcomes (ground truth) for the gateway's telemetry");
  outcomes
    .command('post <file>')
    .description("post an NDJSON file of outcomes to the inference gateway's ingest API")
    .option('--gateway <url>', 'gateway base URL (default VIGIL_GATEWAY_URL)')
    .option('--batch <n>', `outcomes per request (1–${MAX_BATCH})`, (v) => Number(v), 1000)
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', HELP)
    .action(async (file: string, opts: PostOptions) => {
      try {
        setExit(await postOutcomes(file, opts, io));
      } catch (err) {
        if (!(err instanceof CliInputError)) throw err;
        io.stderr(`vigil: ${err.message}\n`);
        setExit(2);
      }
    });
}

type Outcome = Record<string, unknown> & { event_id: string };

/** Every line parsed and checked; throws CliInputError naming the first bad lines. */
export function readOutcomes(text: string, name: string): Outcome[] {
  const out: Outcome[] = [];
  const errors: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      errors.push(`line ${i + 1}: not JSON`);
      continue;
    }
    const parsed = OutcomeInputSchema.safeParse(value);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((x) => `${x.path.join('.') || '(line)'}: ${x.message}`).join('; ');
      errors.push(`line ${i + 1}: ${issues}`);
      continue;
    }
    const o = value as Record<string, unknown>;
    const eventId =
      typeof o.event_id === 'string'
        ? o.event_id
        : `outcome-${createHash('sha256').update(line).digest('hex').slice(0, 40)}`;
    out.push({ ...o, event_id: eventId });
  }
  if (errors.length)
    throw new CliInputError(
      `${name}: ${errors.length} invalid line${errors.length > 1 ? 's' : ''}, nothing posted:\n  ${errors.slice(0, 10).join('\n  ')}${errors.length > 10 ? `\n  … ${errors.length - 10} more` : ''}`,
    );
  if (out.length === 0) throw new CliInputError(`${name}: no outcomes in the file`);
  return out;
}

async function postOutcomes(file: string, opts: PostOptions, io: Io): Promise<number> {
  const url = (opts.gateway ?? io.env.VIGIL_GATEWAY_URL ?? '').replace(/\/+$/, '');
  if (!url) throw new CliInputError('give the gateway with --gateway <url> or VIGIL_GATEWAY_URL');
  const token = io.env.VIGIL_GATEWAY_INGEST_TOKEN ?? io.env.VIGIL_GATEWAY_CONTROL_TOKEN;
  if (!token)
    throw new CliInputError('set VIGIL_GATEWAY_INGEST_TOKEN (or VIGIL_GATEWAY_CONTROL_TOKEN) to post outcomes');
  if (!Number.isInteger(opts.batch) || opts.batch < 1 || opts.batch > MAX_BATCH)
    throw new CliInputError(`--batch must be an integer from 1 to ${MAX_BATCH}`);
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliInputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const all = readOutcomes(text, file === '-' ? 'stdin' : file);
  let accepted = 0;
  for (let k = 0; k < all.length; k += opts.batch) {
    const events = all.slice(k, k + opts.batch);
    const failed = (why: string): number => {
      io.stderr(
        `vigil: outcomes ${k + 1}–${k + events.length} of ${all.length} not posted: ${why}\n` +
          `${accepted} posted before; post the file again (event ids make it idempotent)\n`,
      );
      return 1;
    };
    let res: Response;
    try {
      res = await fetch(`${url}/v2/telemetry/outcomes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ events }),
      });
    } catch (err) {
      return failed((err as Error).message);
    }
    const body = await res.text();
    if (res.status !== 202) return failed(`HTTP ${res.status} ${body.slice(0, 500)}`);
    accepted += events.length;
  }
  const summary = { posted: accepted, batches: Math.ceil(all.length / opts.batch), gateway: url };
  io.stdout(
    opts.json
      ? `${JSON.stringify(summary)}\n`
      : `${accepted} outcomes posted to ${url} in ${summary.batches} batch(es)\n`,
  );
  return 0;
}
