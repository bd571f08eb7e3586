// typescript-eslint "strict" + type-aware rules over the whole TypeScript tree.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `const { dropped, ...kept } = value` is how an object loses properties without mutation.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // Config is parsed once in src/config; everything else receives it as a value.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration from the parsed Config, not process.env.' }],
      // TLS verification is never turned off, in the code, the scripts or the tests.
      'no-restricted-syntax': ['error',
        { selector: "Property[key.name='rejectUnauthorized'][value.value=false]", message: 'TLS verification is never turned off: give the partner\'s CA instead.' },
        { selector: 'Identifier[name=/^NODE_TLS_REJECT/], Literal[value=/^NODE_TLS_REJECT/]', message: 'TLS verification is never turned off.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', module: 'writable', Buffer: 'readonly', performance: 'readonly' },
    },
  },
  {
    files: ['src/config/**', 'src/cli/entry.ts', 'scripts/**', 'test/**', '.mocharc.cjs'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      // Tests inspect untyped JSON responses and poke at fixtures by path.
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Variables set in a before() hook may be unset when the hook skipped or failed.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
);
