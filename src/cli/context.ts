// What every command gets: its streams and a way to set the exit code. Commands never touch
// process.stdout or process.exit, so tests run them in-process with captured streams.
import type { Command } from 'commander';

export interface TextSink {
  write(text: string): unknown;
}

export interface CliStreams {
  stdout: TextSink;
  stderr: TextSink;
  stdin: NodeJS.ReadableStream;
}

export interface CliContext extends CliStreams {
  /** Records the exit code; when several are set the highest wins, so one failure is never
   * hidden by a later success. */
  setExitCode(code: number): void;
}

/** Builds one subcommand. Register a new one by adding its factory to ./commands/index.ts. */
export type CommandFactory = (ctx: CliContext) => Command;

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
