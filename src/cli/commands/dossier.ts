/** `vigil dossier export`: the release's final dossier to PDF (headless Chromium) and/or HTML. */
import type { Command } from 'commander';
import { CHROMIUM_PATH, evidenceStoreFromEnv, exportDossier, type DossierExportOptions } from '../../dossier/export';
import { ConfigError } from '../../config';
import { UsageError, type CliContext } from '../context';

/** Registers `vigil dossier …`. */
export function registerDossierCommands(program: Command, ctx: CliContext): void {
  const dossier = program.command('dossier').description('export release dossiers');
  dossier
    .command('export')
    .description(
      "export a release's final dossier (with sign-offs) via headless Chromium; reads the API and the evidence store " +
        '(exit 3 if the release has no dossier yet, 4 on failure)',
    )
    .argument('<releaseId>')
    .option('--pdf <file>', 'write the dossier as PDF')
    .option('--html <file>', 'write the dossier as HTML')
    .option('--chromium <path>', `Chromium executable (default ${CHROMIUM_PATH})`)
    .action(async (releaseId: string, o: DossierExportOptions) => {
      if (!o.pdf && !o.html) throw new UsageError('give --pdf <file>, --html <file> or both');
      const code = await exportDossier(releaseId, o, {
        releaseStatus: (id) => ctx.client().releaseStatus(id),
        evidence: await evidenceStore(ctx.io.env),
        stdout: ctx.io.stdout,
        stderr: ctx.io.stderr,
      });
      ctx.setExit(code);
    });
}

async function evidenceStore(env: NodeJS.ProcessEnv): ReturnType<typeof evidenceStoreFromEnv> {
  try {
    return await evidenceStoreFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}
