/** Approval reminders and escalation while sign-off is pending (policy approval.reminders). */
import { condition, isCancellation, log } from '@temporalio/workflow';
import type { EvidenceRef } from '../domain';
import { notifyActs, nowIso } from './activities-proxy';
import type { ReleaseState } from './release-state';

/**
 * Reminders at each configured offset and one escalation, while sign-off is pending, each naming the pending
 * roles. Runs beside the expiry wait; stops as soon as sign-off settles, the deadline passes or `stop` is set.
 * Never rejects: a failed notification is logged, and cancellation (supersede) simply ends it.
 */
export async function remind(
  state: ReleaseState,
  reminders: { afterSeconds: number[]; escalateAfterSeconds?: number | undefined },
  expiryMs: number,
  stop: { done: boolean },
  notices: EvidenceRef[],
): Promise<void> {
  const start = Date.now();
  const schedule: Array<{ notice: 'reminder' | 'escalation'; seq: number; afterSeconds: number }> =
    reminders.afterSeconds.map((s, i) => ({
      notice: 'reminder' as const,
      seq: i + 1,
      afterSeconds: s,
    }));
  if (reminders.escalateAfterSeconds !== undefined)
    schedule.push({ notice: 'escalation', seq: 1, afterSeconds: reminders.escalateAfterSeconds });
  schedule.sort((a, b) => a.afterSeconds - b.afterSeconds || (a.notice === 'reminder' ? -1 : 1));
  const over = (): boolean => stop.done || state.approvalSettled();
  try {
    for (const item of schedule) {
      if (item.afterSeconds * 1000 >= expiryMs) break;
      const wait = start + item.afterSeconds * 1000 - Date.now();
      if (wait > 0 && (await condition(over, wait))) return;
      if (over()) return;
      try {
        notices.push(
          await notifyActs.notify({
            releaseId: state.releaseId,
            modelName: state.request.modelName,
            candidateVersion: state.request.candidate.version,
            notice: item.notice,
            seq: item.seq,
            afterSeconds: item.afterSeconds,
            pendingRoles: state.pendingRoles(),
            dossierSha256: state.dossier?.sha256 ?? '',
            deadline: state.approvalDeadline ?? '',
            at: nowIso(),
          }),
        );
      } catch (err) {
        if (isCancellation(err)) throw err;
        log.warn('approval notification failed', {
          releaseId: state.releaseId,
          notice: item.notice,
          seq: item.seq,
          error: String(err),
        });
      }
    }
  } catch (err) {
    if (!isCancellation(err))
      log.warn('approval reminders stopped', { releaseId: state.releaseId, error: String(err) });
  }
}
