// Flag parsers and helpers every command shares, so no command borrows from another.
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../plan/duration';

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`"${text}" is not a port (0-65535; 0 picks a free one)`);
  return port;
}

export function parseDurationFlag(text: string, minMs: number, what: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  if (ms < minMs) throw new InvalidArgumentError(`"${text}" is too short: ${what}`);
  return ms;
}

export function parseBoolean(text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new InvalidArgumentError(`"${text}" is not true or false`);
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
