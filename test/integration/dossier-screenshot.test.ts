/**
 * The demo release's final dossier, opened in headless Chromium: plots, criteria table and sign-offs render,
 * and the page prints to PDF. A screenshot is kept under test-results/ for people to look at.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { ApprovalInput } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { CHROMIUM_PATH, latestDossierRef, readDossierHtml, renderPdf, withDossierPage } from '../../src/dossier/export';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';

const skip = existsSync(CHROMIUM_PATH)
  ? false
  : `${CHROMIUM_PATH} is missing (infra/test.sh installs Debian's chromium)`;
const OUT = path.resolve(__dirname, '../../test-results');

/** Runs in the page; a string because tsx would inject helpers into a serialised function. */
const INSPECT = `(() => {
  const visibleSvgs = [...document.querySelectorAll('svg')].filter((s) => s.getBoundingClientRect().width > 100 && s.querySelector('path'));
  const criteriaTable = [...document.querySelectorAll('table')].find((t) => [...t.querySelectorAll('thead th')].some((th) => th.textContent === 'Criterion'));
  return {
    svgs: visibleSvgs.length,
    criteriaHeaders: criteriaTable ? [...criteriaTable.querySelectorAll('thead th')].map((th) => th.textContent) : [],
    criteriaRows: document.querySelectorAll('tr[class^="criterion-"]').length,
    sections: [...document.querySelectorAll('section[data-section]')].map((s) => s.dataset.section),
    signatures: [...document.querySelectorAll('.signature')].map((d) => d.textContent.trim()),
  };
})()`;
interface Inspected {
  svgs: number;
  criteriaHeaders: string[];
  criteriaRows: number;
  sections: string[];
  signatures: string[];
}

let h: Harness;
before(async () => {
  if (!skip) h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const sign = (
  digest: string,
  who: Pick<ApprovalInput, 'signer' | 'printedName' | 'role' | 'meaning'>,
): ApprovalInput => ({
  ...who,
  decision: 'approve',
  reason: 'evidence reviewed',
  dossierSha256: digest,
});

it(
  'the demo dossier opens in Chromium with plots, the criteria table and the signatures',
  { skip, timeout: 240_000 },
  async () => {
    const handle = await startRelease(h, await demoRequest(h, await fastPolicy(), 7));
    const waiting = await waitFor('AWAITING_APPROVAL', async () => {
      const s = await handle.query(releaseStatusQuery);
      assert.equal(s.outcome, null, `release ended early: ${s.reason}`);
      return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
    });
    const digest = waiting.dossier!.sha256;
    await handle.executeUpdate(approveReleaseUpdate, {
      args: [
        sign(digest, {
          signer: 'dana.qa',
          printedName: 'Dana Whitfield',
          role: 'qa',
          meaning: 'approved as quality reviewer',
        }),
      ],
    });
    await handle.executeUpdate(approveReleaseUpdate, {
      args: [
        sign(digest, {
          signer: 'sam.clin',
          printedName: 'Dr Sam Okafor',
          role: 'clinical',
          meaning: 'approved as clinical reviewer',
        }),
      ],
    });
    const settled = await waitFor('approval recorded', async () => {
      const s = await handle.query(releaseStatusQuery);
      return s.history.find((r) => r.stage === 'AWAITING_APPROVAL')?.decision ? s : null;
    });
    const finalRef = latestDossierRef(settled)!;
    assert.notEqual(finalRef.sha256, digest, 'the final dossier is a new object beside the signed one');
    const { html } = await readDossierHtml(h.evidence, finalRef);

    mkdirSync(OUT, { recursive: true });
    const shot = path.join(OUT, 'dossier-demo.png');
    const seen = await withDossierPage(html, async (page) => {
      await page.screenshot({ path: shot, fullPage: true });
      return page.evaluate(INSPECT) as Promise<Inspected>;
    });
    assert.ok(seen.svgs >= 3, `expected at least 3 rendered plots, saw ${seen.svgs}`);
    assert.deepEqual(seen.criteriaHeaders, ['Criterion', 'Kind', 'Metric', 'Status', 'Reason']);
    assert.ok(seen.criteriaRows >= 6, `criteria rows: ${seen.criteriaRows}`);
    assert.deepEqual(seen.sections, [
      'summary',
      'intended-use',
      'data',
      'evaluation',
      'shadow',
      'canary-plan',
      'rollback',
      'risks',
      'model-card',
      'signatures',
      'evidence',
    ]);
    assert.equal(seen.signatures.length, 2);
    assert.match(
      seen.signatures[0]!,
      /^Dana Whitfield \(dana\.qa, qa\): approved[\s\S]*Meaning: approved as quality reviewer[\s\S]*UTC/,
    );
    assert.match(
      seen.signatures[1]!,
      /^Dr Sam Okafor \(sam\.clin, clinical\): approved[\s\S]*approved as clinical reviewer/,
    );
    assert.ok(statSync(shot).size > 50_000, 'screenshot written');

    const pdf = path.join(OUT, 'dossier-demo.pdf');
    await renderPdf(html, pdf, finalRef.sha256);
    assert.ok(statSync(pdf).size > 20_000, 'PDF written');
    await handle.terminate('dossier rendered; the rest of the lifecycle is covered by release-lifecycle.test.ts');
  },
);
