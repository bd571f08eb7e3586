// Tests run from TypeScript sources through tsx; integration tests share one PostgreSQL server (test/support).
module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/**/*.test.ts'],
  timeout: 20000,
  recursive: true,
  reporter: 'spec',
};
