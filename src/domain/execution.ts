/**
 * How the release's workflow run is doing, as Temporal describes it (added to the status by the API, never by the
 * workflow): a run that failed or was terminated shows so, and an activity being retried shows its attempt and
 * last error, so a stuck stage is visible without the Temporal CLI.
 */
export interface ReleaseExecution {
  /** RUNNING, COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  /** Activities scheduled and not yet finished (normally one: the stage's measurement). */
  pendingActivities: PendingActivity[];
}

export interface PendingActivity {
  activity: string;
  /** 1 on the first try; above 1 while Temporal retries it. */
  attempt: number;
  /** The last attempt's failure message (null before any failed). */
  lastFailure: string | null;
  lastFailureType: string | null;
}
