// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, and
 * activities only as types (the workflow calls them through proxyActivities). The workflow bundler
 * is the backstop (test/unit/workflow-bundle.test.ts); this rule says it at the import line.
 */
// Top-level names only (fs, path, …); sub-paths (fs/promises) and `node:` specifiers go through the regex.
const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_') && !m.includes('/'));

const workflowImportRestrictions = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message: 'Workflow code is deterministic: no Node built-ins. Do I/O in an activity.',
  })),
  patterns: [
    {
      regex: `^(node:.*|(${nodeBuiltins.join('|')})\\/.*)$`,
      message: 'Workflow code is deterministic: no Node built-ins. Do I/O in an activity.',
    },
    {
      group: [
        '@aws-sdk/*',
        'pino',
        'pino/*',
        'hono',
        'hono/*',
        '@hono/*',
        'csv-parse',
        'csv-parse/*',
        '@temporalio/client',
        '@temporalio/client/*',
        '@temporalio/worker',
        '@temporalio/worker/*',
        '@temporalio/activity',
        '@temporalio/activity/*',
      ],
      message: 'I/O library in workflow code: call it from an activity, never from a workflow.',
    },
    {
      regex: '^\\.\\.?\\/(\\.\\.\\/)*activities(\\/.*)?$',
      allowTypeImports: true,
      message:
        "Workflows import activities by type only (`import type { VigilActivities } from '../activities'`) and call them through proxyActivities.",
    },
  ],
};

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.vigil/', 'test-results/'] },
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.{ts,mts,cts}'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_`-prefixed names mark deliberately unused parameters/bindings (handler signatures, destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowImportRestrictions],
    },
  },
  {
    // A function a reader can hold, a file that holds one idea (issue 13).
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', 500],
    },
  },
);
