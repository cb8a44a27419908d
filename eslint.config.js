// One lint gate for the whole tree. The engine stays pure: no I/O modules.
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:fs', 'node:fs/promises', 'node:net', 'node:http', 'node:https', 'node:child_process',
  'node:dgram', 'node:worker_threads', 'node:process', 'fs', 'net', 'http', 'pg', 'kafkajs',
  '@platformatic/kafka', '@electric-sql/pglite',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'test-output/**', 'out/**', '.streamwatch/**', 'src/web/static/vendor/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ioModules.map((name) => ({ name, message: 'src/engine is pure: no I/O imports.' })),
        patterns: [{ group: ['../io/*', '../broker/*', '../cli/*', '../web/*', '../jobs/*'], message: 'engine imports nothing outside engine.' }],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'inject configuration and time.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'time is injected into the engine.' }],
    },
  },
);
