// The `--demo` part of the stack command: seed the bundled demo, start its release through the
// API, and narrate the release's stages until it ends, printing the approval commands when it
// waits for sign-off.
import path from 'node:path';
import type { EvidencePort } from '../contracts/ports';
import type { ReleasePolicy } from '../domain';
import type { ReleaseStatus, StageRecord } from '../domain/release';
import { seedDemo } from './seed';

/**
 * Who signs in the demo, per role: accounts of config/users.example.yaml (published demo passwords).
 * The submitter (alex.mle) may not sign.
 */
export const DEMO_SIGNERS: Record<string, { signer: string; name: string; meaning: string; password: string }> = {
  qa: { signer: 'dana.qa', name: 'Dana Whitfield', meaning: 'approved', password: 'dana-demo-password' },
  clinical: { signer: 'sam.clin', name: 'Dr Sam Okafor', meaning: 'approved', password: 'sam-demo-password' },
  regulatory: { signer: 'rae.reg', name: 'Rae Lindqvist', meaning: 'approved', password: 'rae-demo-password' },
};

export class DemoError extends Error {
  override name = 'DemoError';
}

export interface DemoOptions {
  evidence: EvidencePort;
  policy: ReleasePolicy;
  /** Which bundled candidate to release (default 2.0.0). */
  candidateVersion?: string;
  /** The version the route store serves as production (null: none yet); the release declares it as incumbent. */
  production?: () => Promise<string | null>;
  apiUrl: string;
  token: string;
  /** Lines to export before the CLI commands (token / API URL), already shell-quoted. */
  cliEnv: string[];
  /** How to invoke the CLI and the temporal binary, as printed. */
  vigilBin: string;
  temporalBin: string;
  temporalAddress: string;
  temporalNamespace: string;
  out: Printer;
  signal: AbortSignal;
  pollMs?: number;
  /** True when the API signs in the demo accounts (config/users.example.yaml): the printed commands name their passwords. */
  demoUsers?: boolean;
  /** Called once, when the release first reaches AWAITING_APPROVAL (or ends before it). */
  onAwaitingApproval?: (releaseId: string, digest: string | null) => void;
}

/** Seed, start (or resume) the demo release, follow it to the end. Resolves with the final status. */
export async function runDemo(opts: DemoOptions): Promise<ReleaseStatus | null> {
  const { out } = opts;
  out.event(`seeding the demo: ${opts.policy.id}@${opts.policy.version}, model sepsis-alert (artifacts → S3 evidence store)`);
  // A release replaces what production serves: after an earlier demo released 2.0.0, the next one replaces 2.0.0.
  const serving = (await opts.production?.()) ?? null;
  if (serving !== null && serving === (opts.candidateVersion ?? '2.0.0'))
    out.event(`production already serves ${serving}; releasing it again (try --candidate 2.1.0)`);
  const request = await seedDemo(opts.evidence, opts.policy, {
    ...(opts.candidateVersion ? { candidateVersion: opts.candidateVersion } : {}),
    ...(serving !== null ? { incumbentVersion: serving } : {}),
  });
  const { releaseId, started } = await startRelease(opts, request as unknown as Record<string, unknown>);
  out.event(
    started
      ? `release ${releaseId} started (submitted by ${String(request.submittedBy)})`
      : `release ${releaseId} is already running: resuming where it is`,
  );
  return follow(opts, releaseId);
}

async function startRelease(
  opts: DemoOptions,
  request: Record<string, unknown>,
): Promise<{ releaseId: string; started: boolean }> {
  let attempt = typeof request.attempt === 'number' ? request.attempt : 1;
  for (let tries = 0; tries < 200; tries++) {
    const res = await api(opts, 'POST', '/api/releases', { ...request, attempt });
    if (res.status === 201 || res.status === 200) {
      const body = res.body as { releaseId?: unknown; started?: unknown };
      if (typeof body.releaseId !== 'string') throw new DemoError(`POST /api/releases answered ${res.status} without a releaseId`);
      return { releaseId: body.releaseId, started: body.started !== false && res.status === 201 };
    }
    if (res.status === 409) {
      // A closed release already has this id (an earlier demo run finished): next attempt.
      attempt++;
      continue;
    }
    throw new DemoError(`POST /api/releases answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  throw new DemoError('POST /api/releases kept answering 409 (200 attempts); use a fresh VIGIL_STATE_DIR');
}

async function api(opts: DemoOptions, method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(route, opts.apiUrl), {
    method,
    headers: {
      authorization: `Bearer ${opts.token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.any([opts.signal, AbortSignal.timeout(15_000)]),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed };
}

const TERMINAL = new Set(['RELEASED', 'REJECTED', 'ROLLED_BACK', 'EXPIRED', 'SUPERSEDED']);

async function follow(opts: DemoOptions, releaseId: string): Promise<ReleaseStatus | null> {
  const { out } = opts;
  const pollMs = opts.pollMs ?? 500;
  const printed = new Map<string, 'started' | 'ended'>();
  const signaturesSeen = new Set<string>();
  let approvalPrinted = false;
  let lastError = '';
  let status: ReleaseStatus | null = null;

  while (!opts.signal.aborted) {
    try {
      const res = await api(opts, 'GET', `/api/releases/${encodeURIComponent(releaseId)}`);
      if (res.status !== 200) throw new Error(`GET /api/releases/${releaseId} answered ${res.status}: ${JSON.stringify(res.body)}`);
      status = res.body as ReleaseStatus;
      lastError = '';
    } catch (err) {
      if (opts.signal.aborted) break;
      const msg = (err as Error).message;
      if (msg !== lastError) out.event(`  (status not available yet: ${msg}; retrying)`);
      lastError = msg;
      await sleep(pollMs * 2, opts.signal);
      continue;
    }

    const current = status;
    const printSignatures = (): void => {
      for (const sig of current.signatures ?? []) {
        const key = `${sig.signer}/${sig.role}/${sig.at}`;
        if (signaturesSeen.has(key)) continue;
        signaturesSeen.add(key);
        out.event(`  ✍ ${sig.decision} by ${sig.signer} (${sig.printedName}) as ${sig.role}: "${sig.meaning}" — ${sig.reason}`);
      }
    };
    for (const rec of status.history ?? []) {
      // Terminal stages are announced once, by the final line below.
      if (TERMINAL.has(rec.stage)) continue;
      const key = `${rec.stage}#${rec.step ?? ''}#${rec.startedAt}`;
      if (!printed.has(key)) {
        out.event(`▶ ${stageLabel(rec)}`);
        printed.set(key, 'started');
      }
      // Signatures belong between the approval stage's start and its end.
      if (rec.stage === 'AWAITING_APPROVAL') printSignatures();
      if (rec.endedAt && printed.get(key) !== 'ended') {
        printed.set(key, 'ended');
        out.event(describeEnd(rec));
      }
    }
    printSignatures();

    const stage = status.stage;
    if (stage === 'AWAITING_APPROVAL' && !approvalPrinted && status.dossier?.sha256) {
      approvalPrinted = true;
      printApproval(opts, releaseId, status);
      opts.onAwaitingApproval?.(releaseId, status.dossier.sha256);
    }
    if (TERMINAL.has(stage) || status.outcome) {
      if (!approvalPrinted) opts.onAwaitingApproval?.(releaseId, status.dossier?.sha256 ?? null);
      const last = [...(status.history ?? [])].reverse().find((r) => TERMINAL.has(r.stage));
      const reasons = last?.decision?.reasons.length ? last.decision.reasons : status.reason ? [status.reason] : [];
      const first = status.history?.[0];
      const total = first && last ? ` after ${seconds(Date.parse(last.startedAt) - Date.parse(first.startedAt))}` : '';
      const next =
        status.outcome === 'RELEASED' || status.outcome === 'ROLLED_BACK'
          ? [
              'Next:',
              `  ${opts.vigilBin} audit ${releaseId} --html audit.html          # replay, verify evidence, recompute decisions`,
              `  ${opts.vigilBin} drill rollback ${releaseId} --bake 1 --html drill.html   # rehearse the automatic rollback`,
            ]
          : [];
      out.event(
        [`■ release ${releaseId} ended: ${status.outcome ?? stage}${total}`, ...reasons.map((r) => `      · ${r}`), ...next].join('\n'),
      );
      return status;
    }
    const open = [...(status.history ?? [])].reverse().find((r) => !r.endedAt);
    out.live(open ? `  … ${stageLabel(open)} ${elapsed(open.startedAt)}` : `  … ${stage}`);
    await sleep(pollMs, opts.signal);
  }
  return status;
}

function stageLabel(rec: StageRecord): string {
  return rec.step === null || rec.step === undefined ? rec.stage : `${rec.stage}[${rec.step}]`;
}

function describeEnd(rec: StageRecord): string {
  const took = rec.endedAt ? ` (${seconds(Date.parse(rec.endedAt) - Date.parse(rec.startedAt))})` : '';
  if (!rec.decision) return `  ✔ ${stageLabel(rec)} done${took}`;
  const mark = rec.decision.verdict === 'pass' ? '✔' : rec.decision.verdict === 'fail' ? '✘' : '?';
  const lines = [`  ${mark} ${stageLabel(rec)} ${rec.decision.verdict}${took}`];
  for (const reason of rec.decision.reasons) lines.push(`      · ${reason}`);
  return lines.join('\n');
}

function printApproval(opts: DemoOptions, releaseId: string, status: ReleaseStatus): void {
  const digest = status.dossier!.sha256;
  const roles = status.pendingRoles?.length ? status.pendingRoles : status.requiredRoles ?? [];
  const lines: string[] = [];
  lines.push('');
  lines.push(`Release ${releaseId} is AWAITING_APPROVAL: sign-off needed from ${roles.join(' and ')}.`);
  lines.push(`Dossier digest (what the signatures bind to): ${digest}`);
  lines.push(
    `Approve as ${roles.length === 1 ? 'the reviewer' : `${roles.length} different people`}` +
      ` (the submitter ${status.submittedBy ?? 'alex.mle'} may not sign), in another terminal:`,
  );
  lines.push('');
  for (const e of opts.cliEnv) lines.push(`  ${e}`);
  const passwords: string[] = [];
  for (const role of roles) {
    const who = DEMO_SIGNERS[role] ?? { signer: `${role}.reviewer`, name: `Demo ${role} reviewer`, meaning: `approved as ${role} reviewer`, password: '' };
    lines.push(
      `  ${opts.vigilBin} approve ${releaseId} --user ${who.signer} --role ${role}` +
        ` --meaning ${shq(who.meaning)} --reason ${shq('evidence reviewed')} --digest ${digest}`,
    );
    if (who.password) passwords.push(`${who.signer} / ${who.password}`);
  }
  lines.push('');
  lines.push('Each command asks for the signer\'s password (no echo; or pipe it with --password-stdin); the signature carries the account\'s printed name.');
  if (opts.demoUsers && passwords.length) lines.push(`Demo accounts (config/users.example.yaml, published, local only): ${passwords.join(', ')}`);
  lines.push('');
  lines.push('Watch it:');
  lines.push(`  ${opts.vigilBin} release watch ${releaseId}`);
  const ns = opts.temporalNamespace === 'default' ? '' : ` --namespace ${opts.temporalNamespace}`;
  lines.push(
    `  ${opts.temporalBin} workflow list --address ${opts.temporalAddress}${ns} --query ${shq("VigilModel='sepsis-alert'")}`,
  );
  lines.push('');
  lines.push('This terminal keeps following the release (Ctrl-C stops the whole stack; starting it again resumes).');
  lines.push('');
  opts.out.plain(lines.join('\n'));
}

/** Double-quote for the shell when needed (the demo values contain no $, ` or "). */
function shq(s: string): string {
  return /^[A-Za-z0-9._\-/:=@]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function elapsed(since: string): string {
  const ms = Date.now() - Date.parse(since);
  return Number.isFinite(ms) && ms >= 0 ? `${Math.round(ms / 1000)} s` : '';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Terminal output: events are permanent lines; `live` is one status line rewritten in place on a
 * TTY (and simply not shown elsewhere, so logs and pipes get events only).
 */
export class Printer {
  private liveShown = false;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    private readonly t0: number = Date.now(),
  ) {}

  event(text: string): void {
    this.clearLive();
    const stamp = `[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)}s] `;
    const pad = ' '.repeat(stamp.length);
    const lines = text.split('\n').map((l, i) => (l === '' ? '' : (i === 0 ? stamp : pad) + l));
    this.stream.write(`${lines.join('\n')}\n`);
  }

  /** Unstamped text (the summary blocks). */
  plain(text: string): void {
    this.clearLive();
    this.stream.write(`${text}\n`);
  }

  live(text: string): void {
    if (!this.stream.isTTY) return;
    this.stream.write(`\r\x1b[2K${text}`);
    this.liveShown = true;
  }

  clearLive(): void {
    if (this.liveShown) this.stream.write('\r\x1b[2K');
    this.liveShown = false;
  }
}

export function repoRelative(repoRoot: string, rel: string): string {
  const abs = path.join(repoRoot, rel);
  const fromCwd = path.relative(process.cwd(), abs);
  return fromCwd.startsWith('..') || path.isAbsolute(fromCwd) ? abs : fromCwd;
}
