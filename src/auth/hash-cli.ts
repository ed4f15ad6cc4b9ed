/**
 * Prints a scrypt hash for the users file: `npx tsx src/auth/hash-cli.ts` reads the password from stdin
 * (one line), so it never lands in shell history or the process list.
 */
import { hashPassword } from './passwords';

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length < 12) {
    process.stderr.write('password must be at least 12 characters\n');
    process.exit(2);
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

void main();
