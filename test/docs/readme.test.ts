import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ENVIRONMENT } from '../../src/config/config.js';
import { ERROR_CATALOGUE } from '../../src/domain/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it('starts with the command that starts the gateway and the command that runs the tests', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).to.match(/^npm ci && npm start\b/m).and.match(/^npm test\b/m);
  });

  it('documents every error code with its HTTP status and exit code', () => {
    for (const [code, definition] of Object.entries(ERROR_CATALOGUE)) {
      expect(readme, code).to.match(new RegExp(`\\| \`${code}\` \\| ${definition.status} \\| ${definition.exitCode} \\|`));
    }
  });

  it('documents every environment variable', () => {
    for (const name of Object.keys(ENVIRONMENT)) expect(readme, name).to.contain(`\`${name}\``);
  });
});
