/**
 * The dossier one click from the release page: the stored page as it is, its PDF, and the model card. Each view
 * reads by digest (the store re-hashes). PDF is printed server-side by headless Chromium only when the API host
 * has it (`UiDeps.chromiumPath`), one at a time, so a burst of clicks cannot start a browser per request;
 * without Chromium the answer says how to get the same PDF (browser print, `vigil dossier export --pdf`).
 */
import type { Context, Hono } from 'hono';
import { dossierPdf } from '../dossier/export';
import type { UiDeps, UiEnv } from './deps';
import type { UiKit } from './kit';
import { dossierDocument } from './release-data';
import { errorPage } from './views';

/** The stored pages need no script, no network and no framing: say so to the browser. */
const STORED_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/** GET /releases/:id/dossier.html, /dossier.pdf and /model-card. */
export function registerDossierRoutes(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  let printing: Promise<unknown> = Promise.resolve();

  const documentOf = async (c: Context<UiEnv>) => {
    const status = await kit.statusOr404(c.req.param('id')!);
    const doc = await dossierDocument(deps, status);
    if (doc === null) return { status, failure: 'This release has no dossier yet.' as string };
    if ('error' in doc) return { status, failure: doc.error };
    return { status, doc };
  };

  const stored = async (ref: { key: string; sha256: string }) =>
    Buffer.from(await deps.evidence.getBytes(ref.key, ref.sha256)).toString('utf8');

  ui.get('/releases/:id/dossier.html', async (c) => {
    if (!c.get('user')) return kit.unauthenticated(c);
    const r = await documentOf(c);
    if (!r.doc) return c.html(errorPage(kit.ctxOf(c), 'No dossier', r.failure), 404);
    return c.body(await stored(r.doc.html), 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': STORED_PAGE_CSP,
      'X-Dossier-Sha256': r.doc.index.sha256,
    });
  });

  ui.get('/releases/:id/model-card', async (c) => {
    if (!c.get('user')) return kit.unauthenticated(c);
    const r = await documentOf(c);
    if (!r.doc?.modelCard)
      return c.html(errorPage(kit.ctxOf(c), 'No model card', r.failure ?? 'This dossier has no model card.'), 404);
    return c.body(await stored(r.doc.modelCard), 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': STORED_PAGE_CSP,
    });
  });

  ui.get('/releases/:id/dossier.pdf', async (c) => {
    if (!c.get('user')) return kit.unauthenticated(c);
    const r = await documentOf(c);
    if (!r.doc) return c.html(errorPage(kit.ctxOf(c), 'No dossier', r.failure), 404);
    if (!deps.chromiumPath)
      return c.html(
        errorPage(
          kit.ctxOf(c),
          'PDF not available here',
          `This server has no Chromium to print PDFs. Open the dossier page (/ui/releases/${r.status.releaseId}/dossier.html) and print it to PDF from your browser (the page has a print stylesheet), or run: vigil dossier export ${r.status.releaseId} --pdf dossier.pdf`,
        ),
        503,
      );
    const html = await stored(r.doc.html);
    const job = printing.then(() => dossierPdf(html, r.doc.index.sha256, deps.chromiumPath!));
    printing = job.catch(() => undefined);
    const pdf = await job;
    return c.body(new Uint8Array(pdf), 200, {
      'Content-Type': 'application/pdf',
      'Content-Disposition': `inline; filename="${r.status.releaseId}-dossier-${r.doc.index.sha256.slice(0, 12)}.pdf"`,
      'X-Dossier-Sha256': r.doc.index.sha256,
    });
  });
}
