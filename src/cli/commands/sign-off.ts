/**
 * `vigil approve`, `vigil withdraw` and `vigil canary resume|rollback`: acts of a person under their own account.
 * The password is asked for at every act (no echo, or the first line of stdin), never taken as an argument.
 */
import { Option, type Command } from 'commander';
import { ApprovalInputSchema, RoleSchema, WithdrawalInputSchema } from '../../domain';
import { issueLine, UsageError, type CliContext, type CliIo } from '../context';
import type { Credentials } from '../api-client';
import { formatManifestation } from '../format';
import { deviceSignIn } from '../sso';

const SSO_HELP =
  "sign in again at your organisation's identity provider instead of a password (servers configured for OIDC, docs/sso.md)";
const PASSWORD_STDIN_HELP =
  'read the password from the first line of stdin instead of prompting (for scripts; never pass it as an argument)';

interface ApproveOptions {
  user?: string;
  sso?: boolean;
  passwordStdin?: boolean;
  role: string;
  meaning: string;
  reason: string;
  digest: string;
  reject?: boolean;
  json?: boolean;
}

/** Registers approve, withdraw and canary. */
export function registerSignOffCommands(program: Command, ctx: CliContext): void {
  registerApprove(program, ctx);
  registerWithdraw(program, ctx);
  registerCanary(program, ctx);
}

function registerApprove(program: Command, { io, print, printJson, client }: CliContext): void {
  program
    .command('approve')
    .description(
      'sign a release awaiting approval as yourself: your password is checked again for this signature, and your id and ' +
        'printed name come from your account; the signature is bound to the dossier digest you reviewed (see `vigil release status`)',
    )
    .argument('<releaseId>')
    .option('--user <id>', 'your user id (must not be the submitter); the password is prompted for without echo')
    .option('--password-stdin', PASSWORD_STDIN_HELP)
    .option('--sso', SSO_HELP)
    .addOption(new Option('--role <role>', 'the role you sign for').choices(RoleSchema.options).makeOptionMandatory())
    .requiredOption(
      '--meaning <text>',
      'what the signature means: one of the defined meanings for the role (default: reviewed, approved, "responsible for")',
    )
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
      const res = await client().sign(releaseId, { ...(await credentialsFor(io, client, o)), ...parsed.data });
      if (o.json) return printJson(res);
      const pending = res.pendingRoles.length ? `pending roles: ${res.pendingRoles.join(', ')}` : 'no roles pending';
      print(
        `${res.repeated ? 'already recorded (nothing new was signed)' : 'signature recorded'} for ${res.releaseId}; ${pending}`,
      );
      print(formatManifestation(res.signature));
      print(`record: ${res.signatureKey}`);
    });
}

function registerWithdraw(program: Command, { io, print, printJson, client }: CliContext): void {
  program
    .command('withdraw')
    .description(
      'withdraw your own approval of a release while sign-off is still open: your password is checked again; the ' +
        'approval stops counting but stays on record with the withdrawal, and you may not sign this release again',
    )
    .argument('<releaseId>')
    .option('--user <id>', 'your user id (the account that signed); the password is prompted for without echo')
    .option('--password-stdin', PASSWORD_STDIN_HELP)
    .option('--sso', SSO_HELP)
    .requiredOption('--reason <text>', 'why you withdraw your approval')
    .option('--json', 'print machine-readable JSON only')
    .action(
      async (
        releaseId: string,
        o: { user?: string; passwordStdin?: boolean; sso?: boolean; reason: string; json?: boolean },
      ) => {
        const parsed = WithdrawalInputSchema.shape.reason.safeParse(o.reason);
        if (!parsed.success)
          throw new UsageError(`invalid withdrawal: --reason: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
        const res = await client().withdraw(releaseId, {
          ...(await credentialsFor(io, client, o)),
          reason: parsed.data,
        });
        if (o.json) return printJson(res);
        const pending = res.pendingRoles.length ? `pending roles: ${res.pendingRoles.join(', ')}` : 'no roles pending';
        print(`approval withdrawn for ${res.releaseId}; ${pending}`);
        print(`signature: ${res.signatureKey}`);
        print(`withdrawal record: ${res.withdrawalKey}`);
      },
    );
}

type CanaryOptions = {
  user?: string;
  passwordStdin?: boolean;
  sso?: boolean;
  role: string;
  reason: string;
  json?: boolean;
};

function registerCanary(program: Command, { io, print, printJson, client }: CliContext): void {
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
      .option('--user <id>', 'your user id; the password is prompted for without echo')
      .option('--password-stdin', 'read the password from the first line of stdin instead of prompting')
      .option('--sso', SSO_HELP)
      .requiredOption(
        '--role <role>',
        `the role you decide in (${RoleSchema.options.join(', ')}): one the release requires`,
      )
      .requiredOption('--reason <text>', 'why; recorded with the decision')
      .option('--json', 'print machine-readable JSON only')
      .action(async (releaseId: string, o: CanaryOptions) => {
        const role = RoleSchema.safeParse(o.role);
        if (!role.success) throw new UsageError(`--role must be one of ${RoleSchema.options.join(', ')}`);
        if (o.reason.trim() === '') throw new UsageError('--reason must not be empty');
        const res = await client().decideCanary(releaseId, {
          ...(await credentialsFor(io, client, o)),
          role: role.data,
          decision,
          reason: o.reason,
        });
        if (o.json) return printJson(res);
        print(
          `canary of ${res.releaseId}: ${res.decision === 'resume' ? 'resumed' : 'rolled back'} (record ${res.record})`,
        );
      });
  }
}

/** User id + password, or with --sso the ID token of a fresh sign-in at the identity provider (device grant). */
async function credentialsFor(
  io: CliIo,
  client: CliContext['client'],
  o: { user?: string; passwordStdin?: boolean; sso?: boolean },
): Promise<Credentials> {
  if (o.sso) return { idToken: await deviceSignIn(await client().sso(), (line) => io.stderr(`${line}\n`)) };
  if (!o.user) throw new UsageError('--user <id> is required (or --sso on a server that signs through OIDC)');
  return { username: o.user, password: await readPassword(io, o.user, o.passwordStdin === true) };
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
