// ESLint flat config for every JS file of the project: the package's harness and CLI, the export page,
// the edge Worker, the benchmark and the JS tests (`npx eslint .`, run by scripts/test.sh).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['pkg/', 'target/', '**/node_modules/', 'fuzz/', 'edge/.wrangler/'] },
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (a positional parameter, a drained value).
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
      // `catch {}` is how a best-effort step (a probe, an optional parse) says "failure is fine here".
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Code from strings only where a disable comment says why (js/door.js compiles its field picker).
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },
  // Runtime-neutral code: only what browsers, Node and workerd all have.
  { files: ['js/**/*.js'], languageOptions: { globals: { ...globals['shared-node-browser'], ReadableStream: 'readonly', WritableStream: 'readonly', TransformStream: 'readonly', DecompressionStream: 'readonly', CompressionStream: 'readonly', Blob: 'readonly', Response: 'readonly', document: 'readonly' } } },
  { files: ['www/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['www/export-worker.js'], languageOptions: { globals: { ...globals.worker } } },
  { files: ['www/sw.js'], languageOptions: { globals: { ...globals.serviceworker } } },
  { files: ['edge/src/**/*.js'], languageOptions: { globals: { ...globals.serviceworker } } },
  { files: ['bench/worker.mjs'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['**/*.mjs', '**/*.cjs', 'eslint.config.js', 'edge/dev.mjs'], languageOptions: { globals: { ...globals.node } } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  // Browser tests hand functions to page.evaluate(), which run in the page.
  { files: ['tests/www/**', 'tests/js/package.test.mjs', 'tests/bundlers/**'], languageOptions: { globals: { ...globals.browser, ...globals.node } } },
];
