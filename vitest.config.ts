import swc from 'unplugin-swc';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Decorators with metadata (NestJS) need SWC; lib imports resolve to their TypeScript
// sources through the @vmcp/source export condition.
export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
    }),
  ],
  ssr: { resolve: { conditions: ['@vmcp/source', ...defaultServerConditions] } },
  test: {
    include: [
      'apps/*/src/**/*.spec.ts',
      'libs/*/src/**/*.spec.ts',
      'packages/*/src/**/*.spec.ts',
      'apps/*/test/**/*.spec.ts',
      'packages/*/test/**/*.spec.ts',
      'examples/test/**/*.spec.ts',
      'test/**/*.spec.ts',
      'infra/test/**/*.spec.ts',
    ],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'tmp/test-results.json' }]],
  },
});
