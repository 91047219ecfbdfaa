#!/usr/bin/env node
// The `trafficshift` executable, also installed as `kubectl-trafficshift`.
import { runCli } from './program';

runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
