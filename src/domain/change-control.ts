/** Change classification under the policy's predetermined change control plan. Pure: the workflow calls it. */
import type { ChangeDimension, ReleasePolicy, Role } from './policy';

/** Within the predetermined change control plan, or a substantial change that needs the wider sign-off. */
export type ChangeClass = 'withinPlan' | 'substantial';

/**
 * A change is within the plan when every changed dimension is one the plan allows. Without a plan in the
 * policy every change is substantial (nothing was pre-authorised).
 */
export function classifyChange(
  policy: Pick<ReleasePolicy, 'changeControl'>,
  changed: readonly ChangeDimension[],
): ChangeClass {
  const plan = policy.changeControl;
  if (!plan) return 'substantial';
  return changed.every((d) => plan.withinPlan.allowed.includes(d)) ? 'withinPlan' : 'substantial';
}

/**
 * Roles that must sign: the class's roles from the change control plan, or `approval.requiredRoles` when the
 * policy has no plan or the class is not known yet (kept for policies and histories from before change control).
 */
export function requiredRolesFor(
  policy: Pick<ReleasePolicy, 'changeControl' | 'approval'>,
  changeClass: ChangeClass | null | undefined,
): Role[] {
  if (!policy.changeControl || !changeClass) return policy.approval.requiredRoles;
  return policy.changeControl.requiredRoles[changeClass];
}
