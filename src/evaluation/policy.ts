import YAML from 'yaml';
import { AcceptancePolicySchema, type AcceptancePolicy } from '../domain/acceptance';

export * from '../domain/acceptance';

/** The one error at the policy boundary: every problem, each with its path. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(readonly issues: string[]) {
    super(`invalid acceptance policy:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** Attribute names the criteria refer to, in first-use order. */
export function referencedAttributes(policy: AcceptancePolicy): string[] {
  const names = new Set<string>();
  for (const c of policy.criteria) if (c.slices !== 'overall') c.slices.attributes.forEach((a) => names.add(a));
  return [...names];
}

/** Checks that every attribute the policy names is declared; lists the valid names otherwise. */
export function checkAttributes(policy: AcceptancePolicy, declared: readonly string[]): void {
  const issues: string[] = [];
  policy.criteria.forEach((c, i) => {
    if (c.slices === 'overall') return;
    const seen = new Set<string>();
    for (const a of c.slices.attributes) {
      if (!declared.includes(a))
        issues.push(
          `criteria.${i}.slices.attributes: unknown attribute "${a}"; declared attributes: ${declared.join(', ') || '(none)'}`,
        );
      if (seen.has(a)) issues.push(`criteria.${i}.slices.attributes: "${a}" listed twice`);
      seen.add(a);
    }
  });
  if (issues.length > 0) throw new PolicyError(issues);
}

/** Validates an already-parsed policy object. Pass `attributes` to check attribute names at load time. */
export function validateAcceptancePolicy(
  value: unknown,
  options: { attributes?: readonly string[] } = {},
): AcceptancePolicy {
  const parsed = AcceptancePolicySchema.safeParse(value);
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  if (options.attributes) checkAttributes(parsed.data, options.attributes);
  return parsed.data;
}

/** Parses policy text (YAML is a superset of JSON, so either is accepted) and validates it. */
export function parseAcceptancePolicy(
  text: string,
  options: { attributes?: readonly string[] } = {},
): AcceptancePolicy {
  let value: unknown;
  try {
    value = YAML.parse(text);
  } catch (err) {
    throw new PolicyError([`not valid YAML/JSON: ${(err as Error).message}`]);
  }
  return validateAcceptancePolicy(value, options);
}
