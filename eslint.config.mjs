import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * STYLE.md 1: tags decide who may depend on whom. Contracts depend on nothing but zod;
 * apps never import another app; tests (and only tests) may also use the testing lib.
 */
function boundaries(inTests) {
  const t = (...tags) => (inTests ? [...tags, 'type:testing'] : tags);
  return {
    enforceBuildableLibDependency: false,
    banTransitiveDependencies: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
      { sourceTag: 'type:util', onlyDependOnLibsWithTags: t('type:contracts', 'type:util', 'type:data-access') },
      { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: t('type:contracts', 'type:util', 'type:data-access') },
      { sourceTag: 'type:feature', onlyDependOnLibsWithTags: t('type:contracts', 'type:util', 'type:data-access') },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data-access', 'type:feature', 'type:sdk'] },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: t('type:contracts', 'type:util', 'type:data-access', 'type:feature') },
      // The published packages stand alone: the SDK depends on no internal lib, the CLI only on the SDK.
      { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: inTests ? ['type:testing'] : [] },
      { sourceTag: 'type:cli', onlyDependOnLibsWithTags: t('type:sdk') },
      { sourceTag: 'type:example', onlyDependOnLibsWithTags: t('type:sdk') },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:edge', onlyDependOnLibsWithTags: ['scope:shared', 'scope:edge'] },
      { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:shared', 'scope:policy'] },
      { sourceTag: 'scope:vault', onlyDependOnLibsWithTags: ['scope:shared', 'scope:vault'] },
      { sourceTag: 'scope:executor', onlyDependOnLibsWithTags: ['scope:shared', 'scope:executor'] },
      { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:shared', 'scope:audit'] },
    ],
  };
}

export default [
  {
    ignores: ['packages/sdk/src/generated', '**/dist', '**/node_modules', '**/.vmcp', '.nx', 'coverage', '**/*.d.ts', 'tmp'],
  },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts', '**/*.mts'],
    // Nest's DI reads constructor types from decorator metadata: the rules must know, or
    // they would turn those imports into type-only ones and break injection.
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    rules: {
      // STYLE.md 1: one public door per lib, tags decide who may depend on whom.
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          // STYLE.md 6: config is read once, by libs/config.
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through @vmcp/config, not process.env.',
        },
      ],
    },
  },
  {
    // The config lib is the one reader of the environment; tests and scripts set it for children.
    files: ['libs/config/src/**/*.ts', '**/*.spec.ts', '**/test/**/*.ts', 'libs/testing/**/*.ts', 'bench/**', 'packages/cli/**', 'examples/**', 'scripts/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts', 'libs/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': ['error', boundaries(true)],
    },
  },
];
