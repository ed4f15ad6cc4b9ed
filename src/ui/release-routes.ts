/** The signer's inbox, the list of releases and one release's page. */
import type { Hono } from 'hono';
import { SearchAttr } from '../domain/messages';
import type { UiDeps, UiEnv } from './deps';
import type { UiKit } from './kit';
import { canaryCohorts } from './canary-cohorts';
import { dossierDocument, eligibleRoles, signFormState } from './release-data';
import { inboxPage, releasePage, releasesPage, type InboxRow } from './views';

const LIST_LIMIT = 100;

/** GET /inbox, /releases and /releases/:id. */
export function registerReleaseRoutes(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  ui.get('/inbox', async (c) => {
    const user = c.get('user');
    if (!user) return kit.unauthenticated(c);
    const rows: InboxRow[] = [];
    const query = `WorkflowType = 'releaseLifecycle' AND ExecutionStatus = 'Running' AND ${SearchAttr.stage.name} = 'AWAITING_APPROVAL'`;
    for await (const wf of deps.client.workflow.list({ query, pageSize: LIST_LIMIT })) {
      const status = await kit.statusOrNull(wf.workflowId);
      if (!status || status.stage !== 'AWAITING_APPROVAL') continue;
      const mine = eligibleRoles(user, status);
      if (mine.length === 0 || status.submittedBy === user.id || status.signatures.some((s) => s.signer === user.id))
        continue;
      rows.push({
        releaseId: status.releaseId,
        model: status.modelName,
        candidateVersion: status.candidateVersion,
        submittedBy: status.submittedBy,
        pendingForMe: mine,
        deadline: status.approvalDeadline,
      });
      if (rows.length >= LIST_LIMIT) break;
    }
    return c.html(inboxPage(kit.ctxOf(c), rows));
  });

  ui.get('/releases', async (c) => {
    if (!c.get('user')) return kit.unauthenticated(c);
    const rows = [];
    for await (const wf of deps.client.workflow.list({
      query: "WorkflowType = 'releaseLifecycle'",
      pageSize: LIST_LIMIT,
    })) {
      rows.push({
        releaseId: wf.workflowId,
        status: wf.status.name,
        stage: wf.typedSearchAttributes.get(SearchAttr.stage) ?? null,
        outcome: wf.typedSearchAttributes.get(SearchAttr.outcome) ?? null,
        startTime: wf.startTime.toISOString(),
      });
      if (rows.length >= LIST_LIMIT) break;
    }
    return c.html(releasesPage(kit.ctxOf(c), rows));
  });

  ui.get('/releases/:id', async (c) => {
    const user = c.get('user');
    if (!user) return kit.unauthenticated(c);
    const status = await kit.statusOr404(c.req.param('id'));
    return c.html(
      releasePage(kit.ctxOf(c), {
        status,
        dossier: await dossierDocument(deps, status),
        sign: signFormState(user, status, deps.identities),
        cohorts: await canaryCohorts(deps, status),
      }),
    );
  });
}
