import assert from 'node:assert/strict';

/**
 * Two generated files must be identical. On a difference this names the first differing line instead of letting
 * assert.equal diff the whole texts (for files of tens of kilobytes that diff takes minutes).
 */
export function assertSameText(committed: string, generated: string, name: string): void {
  if (committed === generated) return;
  const a = committed.split('\n');
  const b = generated.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  const at = i === -1 ? a.length : i;
  assert.fail(
    `${name} is stale from line ${at + 1}: committed ${JSON.stringify(a[at] ?? '<end>')}, generated ${JSON.stringify(b[at] ?? '<end>')}`,
  );
}
