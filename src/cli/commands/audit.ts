/**
 * `vigil evidence verify <release>` and `vigil audit <release>`: auditor commands. They read the
 * evidence store directly (configured S3 credentials) and, for `audit`, Temporal; no API needed.
 */
import fs from 'node:fs';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Command } from 'commander';
import pino from 'pino';
import {
  auditRelease,
  formatChecks,
  formatMeasured,
  renderAuditHtml,
  S3EvidenceReader,
  verifyEvidence,
  type SignatureManifestation,
  type TemporalHistorySource,
} from '../../audit';
import type { AuthenticationSummary } from '../../audit/signer-authentication';
import { payloadDataConverter } from '../../codec';
import { ConfigError, loadConfig, type VigilConfig } from '../../config';
import { createS3Client, EvidenceStorageError } from '../../evidence';
import { installRuntimeLogger } from '../../workers/runtime';
import type { CommandIo } from '../context';

type Io = CommandIo;

/** Exit codes of the auditor commands (same numbering as the rest of the CLI). */
export const AuditExit = { ok: 0, usage: 2, failed: 3, unreachable: 4 } as const;

const VERIFY_HELP = `
Re-reads every chain entry of the release (releases/<id>/chain/*) and every artifact they name, and
every artifact those JSON artifacts reference (models, datasets, archived histories, workflow bundles),
re-hashes each one and checks sequence numbers and prev-digest links. Each object is read at the version
its reference records (chain entries: the key's first version) and reported as intact, hidden (a newer
version or delete marker over the intact one; both named), altered, destroyed or unreadable (the store
answered with an error). Every mismatch is named: key, expected, actual.

Exit codes: 0 every object intact and the chain whole; 2 usage/configuration error; 3 any other state or
a chain fault; 4 the evidence store could not be reached at all.`;

const AUDIT_HELP = `
Checks, each PASS or FAIL:
  evidence-chain          chain sequence, prev-digest links, head = the head the workflow returned
  evidence-artifacts      every artifact re-read at its recorded version and re-hashed
  evidence-versions       no evidence hidden under a newer version or a delete marker
  histories               each workflow run's history, from Temporal or (when Temporal no longer has
                          it, or with --from-archive) from the archive in the evidence store; archive
                          and Temporal agree event by event
  replay-recorded-build   Worker.runReplayHistory against the archived bundle of the build that ran it
  replay-current-build    ... and against the current workflow code
  history-chain-writes    the chain entries stored are the ones the workflow wrote
  decisions               every gate decision recomputed from the recorded measurements and the pinned
                          policy with the same pure judges, compared with the chain
  signatures              signatures with printed name, time, meaning and role, bound to the dossier

Exit codes: 0 every check passed; 2 usage/configuration error; 3 a check failed; 4 the evidence store
could not be reached.`;

export function registerAuditCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const print = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const printJson = (value: unknown): void => io.stdout(`${JSON.stringify(value, null, 2)}\n`);

  const evidence =
    program.commands.find((c) => c.name() === 'evidence') ??
    program.command('evidence').description('verify stored evidence');
  evidence
    .command('verify')
    .description(
      "re-read and re-hash a release's evidence chain and every artifact it references (exit 3 on any mismatch)",
    )
    .argument('<releaseId>')
    .option('--bucket <name>', 'evidence bucket to read (default: VIGIL_S3_BUCKET), e.g. a copy made for review')
    .option('--json', 'print machine-readable JSON only')
    .addHelpText('after', VERIFY_HELP)
    .action(async (releaseId: string, opts: { bucket?: string; json?: boolean }) => {
      setExit(
        await guarded(io, async (config) => {
          const s3 = createS3Client(config.s3);
          try {
            const { chain, checks, passed } = await verifyEvidence(
              new S3EvidenceReader(s3, opts.bucket ?? config.s3.bucket),
              releaseId,
            );
            if (opts.json)
              printJson({
                releaseId,
                passed,
                chain: { entries: chain.entries.length, head: chain.head, artifactsChecked: chain.artifactsChecked },
                checks,
                objects: chain.objectReports,
              });
            else print(`${formatChecks(checks)}\n${passed ? 'evidence verified' : 'EVIDENCE MISMATCH'}: ${releaseId}`);
            return passed ? AuditExit.ok : AuditExit.failed;
          } finally {
            s3.destroy();
          }
        }),
      );
    });

  program
    .command('audit')
    .description(
      'audit a release: replay its histories, verify its evidence, recompute every gate decision (exit 3 if any check fails)',
    )
    .argument('<releaseId>')
    .option('--json', 'print the audit report as JSON only')
    .option('--html <file>', 'also write a self-contained HTML report to <file>')
    .option('--from-archive', 'use only the histories archived in the evidence store, not Temporal')
    .option('--bucket <name>', 'evidence bucket to read (default: VIGIL_S3_BUCKET)')
    .addHelpText('after', AUDIT_HELP)
    .action(
      async (releaseId: string, opts: { json?: boolean; html?: string; fromArchive?: boolean; bucket?: string }) => {
        setExit(
          await guarded(io, async (config) => {
            // Replay workers log through the SDK runtime: keep stdout for the report.
            installRuntimeLogger(pino({ name: 'vigil-audit', level: 'error' }, pino.destination(2)));
            const s3 = createS3Client(config.s3);
            const temporal = opts.fromArchive ? null : await connectTemporal(config, io);
            try {
              const report = await auditRelease(releaseId, {
                reader: new S3EvidenceReader(s3, opts.bucket ?? config.s3.bucket),
                temporal: temporal?.source ?? null,
                currentBundle: () => currentBundle(config),
                payloadCodecs: payloadDataConverter(config.payloadCodec)?.payloadCodecs ?? [],
              });
              if (opts.html) fs.writeFileSync(opts.html, renderAuditHtml(report));
              if (opts.json) printJson(report);
              else {
                const runs = report.histories.map(
                  (h) => `  ${h.workflowType} ${h.workflowId} run ${h.runId}: ${h.events} events from ${h.source}`,
                );
                print(
                  [
                    `audit of ${releaseId}`,
                    ...runs,
                    '',
                    formatChecks(report.checks),
                    '',
                    ...formatMeasured(report.decisions),
                    ...report.signatures.flatMap(signatureLines),
                    `replay: ${report.timings.replayMs} ms; total ${report.timings.totalMs} ms`,
                    `${report.passed ? 'AUDIT PASSED' : 'AUDIT FAILED'}${opts.html ? ` (HTML report: ${opts.html})` : ''}`,
                  ].join('\n'),
                );
              }
              return report.passed ? AuditExit.ok : AuditExit.failed;
            } finally {
              s3.destroy();
              await temporal?.close();
            }
          }),
        );
      },
    );
}

export async function guarded(io: Io, fn: (config: VigilConfig) => Promise<number>): Promise<number> {
  let config: VigilConfig;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`vigil: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return AuditExit.usage;
    }
    throw err;
  }
  try {
    return await fn(config);
  } catch (err) {
    if (err instanceof EvidenceStorageError) {
      io.stderr(`vigil: evidence store unreachable: ${err.message}\n`);
      return AuditExit.unreachable;
    }
    throw err;
  }
}

/** Temporal if reachable; otherwise the audit proceeds from the archive (and says so). */
async function connectTemporal(
  config: VigilConfig,
  io: Io,
): Promise<{ source: TemporalHistorySource; close: () => Promise<void> } | null> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5 seconds' });
  } catch (err) {
    io.stderr(
      `vigil: Temporal at ${config.temporal.address} unreachable (${(err as Error).message}); auditing from the archive\n`,
    );
    return null;
  }
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return {
    source: {
      async fetch(workflowId, runId) {
        try {
          return historyToJSON(await client.workflow.getHandle(workflowId, runId).fetchHistory());
        } catch (err) {
          if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) return null;
          throw err;
        }
      },
    },
    close: () => connection.close(),
  };
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function currentBundle(config: VigilConfig): Promise<{ code: string }> {
  if (config.workflowBundle) return { code: fs.readFileSync(config.workflowBundle, 'utf8') };
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quiet });
}

/**
 * One signature in the text report: the manifestation, then (under OIDC) the provider's authentication of the act,
 * and a withdrawal with its own.
 */
export function signatureLines(s: SignatureManifestation): string[] {
  const auth = (a: AuthenticationSummary | undefined, indent: string): string[] =>
    a
      ? [
          `${indent}authenticated at ${a.issuer} as ${a.subject} at ${a.authTime}${a.amr?.length ? ` (amr: ${a.amr.join(', ')})` : ''}${a.acr ? ` (acr: ${a.acr})` : ''}`,
        ]
      : [];
  return [
    `signed: ${s.printedName} (${s.role}) at ${s.at}: "${s.meaning}"`,
    ...auth(s.authentication, '  '),
    ...(s.withdrawn
      ? [`  withdrawn at ${s.withdrawn.at}: "${s.withdrawn.reason}"`, ...auth(s.withdrawn.authentication, '    ')]
      : []),
  ];
}
