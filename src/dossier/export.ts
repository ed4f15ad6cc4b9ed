/** `vigil dossier export <releaseId> --pdf out.pdf [--html out.html]`: the final dossier, printed by headless Chromium. */
import fs from 'node:fs';
import type { EvidencePort } from '../contracts/ports';
import type { EvidenceRef, ReleaseStatus } from '../domain';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Flags for Debian's chromium in containers and CI (see TOOLCHAIN.md). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * The dossier to export: the final one (with sign-offs) recorded in the AWAITING_APPROVAL chain entry once
 * approval settled, otherwise the one awaiting signatures.
 */
export function latestDossierRef(status: Pick<ReleaseStatus, 'dossier' | 'history'>): EvidenceRef | null {
  const approval = status.history.find((h) => h.stage === 'AWAITING_APPROVAL' && h.decision !== null);
  return approval?.artifacts[1] ?? status.dossier;
}

/** Read the dossier index and the HTML page it links; the store re-hashes both. */
export async function readDossierHtml(
  evidence: Pick<EvidencePort, 'getBytes'>,
  index: EvidenceRef,
): Promise<{ html: string; index: { html: EvidenceRef } }> {
  const parsed = JSON.parse(Buffer.from(await evidence.getBytes(index.key, index.sha256)).toString('utf8')) as {
    html?: EvidenceRef;
  };
  if (!parsed.html) throw new Error(`${index.key} is not a dossier index with an HTML page`);
  const html = Buffer.from(await evidence.getBytes(parsed.html.key, parsed.html.sha256)).toString('utf8');
  return { html, index: { html: parsed.html } };
}

/** Open HTML in headless Chromium (playwright-core, no browser download) and run `use` with the page. */
export async function withDossierPage<T>(
  html: string,
  use: (page: import('playwright-core').Page) => Promise<T>,
  executablePath = CHROMIUM_PATH,
): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The page is self-contained: refuse every network request so a stray external asset would show.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    return await use(page);
  } finally {
    await browser.close();
  }
}

/**
 * The dossier page printed to PDF (A4, print stylesheet). The PDF carries the dossier's root digest — the digest
 * approvers sign — in its document title (PDF metadata) and in every page's footer; the page's content is the
 * stored page's, unchanged.
 */
export async function dossierPdf(html: string, indexSha256: string, executablePath = CHROMIUM_PATH): Promise<Buffer> {
  const titled = html.replace(/<title>([^<]*)<\/title>/, `<title>$1 (dossier sha256 ${indexSha256})</title>`);
  return withDossierPage(
    titled,
    async (page) =>
      page.pdf({
        format: 'A4',
        printBackground: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: `<div style="font-size:7px;width:100%;padding:0 10mm;font-family:monospace;display:flex;justify-content:space-between"><span>dossier sha256 ${indexSha256}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`,
        margin: { top: '12mm', bottom: '16mm', left: '10mm', right: '10mm' },
      }),
    executablePath,
  );
}

export async function renderPdf(
  html: string,
  out: string,
  indexSha256: string,
  executablePath = CHROMIUM_PATH,
): Promise<void> {
  fs.writeFileSync(out, await dossierPdf(html, indexSha256, executablePath));
}

export interface DossierExportDeps {
  releaseStatus(releaseId: string): Promise<ReleaseStatus>;
  evidence: Pick<EvidencePort, 'getBytes'>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Where to write the dossier: at least one of `pdf` and `html`. */
export interface DossierExportOptions {
  pdf?: string | undefined;
  html?: string | undefined;
  chromium?: string | undefined;
}

/**
 * The release's latest dossier to PDF and/or HTML (`vigil dossier export`, which parses the arguments).
 * Exit codes as the CLI's: 0 ok, 3 nothing to export, 4 failure.
 */
export async function exportDossier(
  releaseId: string,
  o: DossierExportOptions,
  deps: DossierExportDeps,
): Promise<number> {
  try {
    const status = await deps.releaseStatus(releaseId);
    const ref = latestDossierRef(status);
    if (!ref) {
      deps.stderr(`release ${status.releaseId} has no dossier yet (stage ${status.stage})\n`);
      return 3;
    }
    const { html } = await readDossierHtml(deps.evidence, ref);
    if (o.html) fs.writeFileSync(o.html, html);
    if (o.pdf) await renderPdf(html, o.pdf, ref.sha256, o.chromium ?? CHROMIUM_PATH);
    deps.stdout(
      `exported dossier ${ref.sha256} of ${status.releaseId}${o.pdf ? ` to ${o.pdf}` : ''}${o.html ? ` and ${o.html}` : ''}\n`,
    );
    return 0;
  } catch (err) {
    deps.stderr(`dossier export failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 4;
  }
}

/** The evidence store the CLI reads dossiers from (read-only use; same S3 settings as the worker). */
export async function evidenceStoreFromEnv(env: NodeJS.ProcessEnv): Promise<Pick<EvidencePort, 'getBytes'>> {
  const { loadConfig } = await import('../config');
  const { createS3Client, EvidenceStore } = await import('../evidence');
  const config = loadConfig(env);
  return new EvidenceStore({ s3: createS3Client(config.s3), bucket: config.s3.bucket, retention: config.retention });
}
