// ESLint flat config: typescript-eslint's recommended rules for the TypeScript sources and tests, the JS
// recommended rules for the plain .mjs scripts and benchmarks; formatting is prettier's (eslint-config-prettier
// turns off the rules that would fight it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.e2e-cache/', 'test-results/', 'bench/results/', 'tests/fixtures/**/*.txt'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (callback positions, destructured-away fields)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-unused-vars': 'off',
      // a terminal orchestrator matches escape sequences and control characters on purpose
      'no-control-regex': 'off',
    },
  },
  {
    // tests read untyped JSON (wire payloads, config files, records); `any` keeps those assertions short
    files: ['tests/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // the dashboard page script runs in the browser
    files: ['src/dashboard/page/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  prettier,
);
