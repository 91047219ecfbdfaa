// `trafficshift validate FILE...`: the checks the controller applies, before `kubectl apply`.
// The API server prunes unknown fields silently and (before v1.25) ignores CEL, so a misspelt
// field or a broken cross-field rule only shows up here or as a Stalled plan.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { checkPlanText, type DocumentReport, type FileReport, isClean } from '../../plan/loadFile';
import { type CliContext, readAll } from '../context';

export const STDIN = '-';
const STDIN_LABEL = '<stdin>';

export interface ValidateOptions {
  output: 'text' | 'json';
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

async function reportFor(file: string, ctx: CliContext, stdinUsed: { done: boolean }): Promise<FileReport> {
  const label = file === STDIN ? STDIN_LABEL : file;
  let text: string;
  try {
    if (file === STDIN) {
      // stdin can be read once; a second `-` sees an empty stream, which reads as no plans.
      text = stdinUsed.done ? '' : await readAll(ctx.stdin);
      stdinUsed.done = true;
    } else {
      text = await readFile(file, 'utf8');
    }
  } catch (err) {
    return { file: label, documents: [], failure: { message: describeReadError(err) } };
  }
  return checkPlanText(label, text);
}

function documentLabel(doc: DocumentReport): string {
  return doc.name === null ? `doc ${doc.document}` : `doc ${doc.document} (${doc.name})`;
}

function writeText(report: FileReport, ctx: CliContext): void {
  const { file } = report;
  if (report.failure) {
    const at = report.failure.line === undefined ? '' : ` (line ${report.failure.line}${report.failure.column === undefined ? '' : `, column ${report.failure.column}`})`;
    ctx.stdout.write(`${file}: ${report.failure.message}${at}\n`);
    return;
  }
  for (const doc of report.documents) {
    switch (doc.status) {
      case 'valid':
        ctx.stdout.write(`${file}: ${doc.name ?? documentLabel(doc)} is valid\n`);
        break;
      case 'invalid':
        for (const e of doc.errors) ctx.stdout.write(`${file}: ${documentLabel(doc)}: ${e.path}: ${e.message} (line ${e.line})\n`);
        break;
      case 'skipped':
        ctx.stderr.write(`${file}: ${documentLabel(doc)}: skipped: ${doc.reason}\n`);
        break;
    }
  }
  if (!report.documents.some((d) => d.status !== 'skipped')) ctx.stderr.write(`${file}: no MigrationPlan found\n`);
}

/** Validates every file and writes the result; resolves to the exit code (1 if anything failed). */
export async function runValidate(files: ReadonlyArray<string>, options: ValidateOptions, ctx: CliContext): Promise<number> {
  const stdinUsed = { done: false };
  const reports: FileReport[] = [];
  // One at a time, so the text output comes in the order the files were named.
  for (const file of files) {
    const report = await reportFor(file, ctx, stdinUsed);
    reports.push(report);
    if (options.output === 'text') writeText(report, ctx);
  }
  const valid = reports.every(isClean);
  if (options.output === 'json') ctx.stdout.write(`${JSON.stringify({ valid, files: reports }, null, 2)}\n`);
  return valid ? 0 : 1;
}

export function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description(`check MigrationPlan files as the controller would (YAML, several documents per file; "${STDIN}" reads stdin)`)
    .argument('<files...>', 'YAML files holding MigrationPlans; other kinds are skipped')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (files: string[], options: ValidateOptions) => {
      ctx.setExitCode(await runValidate(files, options, ctx));
    });
}
