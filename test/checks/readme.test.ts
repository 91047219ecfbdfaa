import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATE_DOCS } from '../../src/checks/templates';

describe('the README', () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  it.each(TEMPLATE_DOCS.map((d) => [`${d.provider} ${d.template}`, d.promql]))('writes down the %s template as the code renders it', (_name, promql) => {
    expect(readme).toContain(`\`${promql}\``);
  });
});
