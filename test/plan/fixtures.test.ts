// Every file in test/fixtures/invalid is a plan that is wrong in one way. Its leading
// `# expect: <path> <message part>` lines name every error validate must report for it: no
// fewer (the rule works) and no more (the fixture is wrong in just that way, and one mistake does
// not cascade into noise). A YAML syntax error has the path `(yaml)`.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkPlanText } from '../../src/plan/loadFile';

const DIR = path.resolve(__dirname, '../fixtures/invalid');
const EXPECT = /^# expect: (\S+) (.+)$/;

interface Expectation { path: string; message: string }

function expectationsOf(text: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of text.split('\n')) {
    const match = EXPECT.exec(line);
    if (!match) break;
    out.push({ path: match[1] as string, message: match[2] as string });
  }
  return out;
}

function reported(file: string, text: string): Expectation[] {
  const report = checkPlanText(file, text);
  if (report.failure) {
    const { message, line, column } = report.failure;
    return [{ path: '(yaml)', message: `${message} (line ${line}, column ${column})` }];
  }
  return report.documents.flatMap((d) => (d.status === 'invalid' ? d.errors.map(({ path: p, message }) => ({ path: p, message })) : []));
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

it('has fixtures', () => {
  expect(files.length).toBeGreaterThanOrEqual(20);
});

it.each(files)('%s reports exactly the errors it expects', (file) => {
  const text = readFileSync(path.join(DIR, file), 'utf8');
  const expected = expectationsOf(text);
  expect(expected.length).toBeGreaterThan(0);
  const actual = reported(file, text);
  expect(actual).toHaveLength(expected.length);
  for (const want of expected) {
    expect(actual).toContainEqual({ path: want.path, message: expect.stringContaining(want.message) });
  }
});
