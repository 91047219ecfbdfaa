// The register of processes the tests started, shared by the jest run's parts: each test file
// (processGuard.ts) adds the tied children it starts, its environment (environment.ts) kills
// those of its own file that are still running when the file ends, and the global teardown kills
// whatever any file left. One file per process group, in a folder the global setup makes.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RUN_DIR_ENV = 'TRAFFICSHIFT_TEST_RUN_DIR';

export interface RegisteredProcess {
  /** The process group's id. */
  pid: number;
  command: string;
  testPath: string;
  startedAt: string;
}

export function runDir(): string | undefined {
  const dir = process.env[RUN_DIR_ENV];
  return dir && fs.existsSync(dir) ? dir : undefined;
}

function entryFile(dir: string, pid: number): string {
  return path.join(dir, `${pid}.json`);
}

export function register(entry: RegisteredProcess): void {
  const dir = runDir();
  if (dir) fs.writeFileSync(entryFile(dir, entry.pid), JSON.stringify(entry));
}

export function unregister(pid: number): void {
  const dir = runDir();
  if (dir) fs.rmSync(entryFile(dir, pid), { force: true });
}

export function registered(dir: string): RegisteredProcess[] {
  const out: RegisteredProcess[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as RegisteredProcess);
    } catch {
      // written half-way by a process that was killed; its group is found by the next entry or not at all
    }
  }
  return out;
}

/** The live (not zombie) processes of a process group, from /proc: a killed process stays a
 * zombie until its parent reaps it, and `kill(-pgid, 0)` still finds zombies. */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(name));
  }
  return members;
}

function groupAlive(pid: number): boolean {
  return liveGroupMembers(pid).length > 0;
}

/** SIGKILLs every registered group (of `testPath`, when given) that still runs; returns what it killed. */
export function killLeftovers(dir: string, testPath?: string): RegisteredProcess[] {
  const killed: RegisteredProcess[] = [];
  for (const entry of registered(dir)) {
    if (testPath !== undefined && entry.testPath !== testPath) continue;
    if (groupAlive(entry.pid)) {
      try {
        process.kill(-entry.pid, 'SIGKILL');
        killed.push(entry);
      } catch {
        // it ended between the check and the kill
      }
    }
    fs.rmSync(entryFile(dir, entry.pid), { force: true });
  }
  return killed;
}

export function describeLeftovers(killed: readonly RegisteredProcess[], where: string): string {
  return [
    `${where}: ${killed.length} process group(s) a test started were still running and were killed:`,
    ...killed.map((k) => `  pid ${k.pid} (${k.command}) started ${k.startedAt} by ${k.testPath}`),
  ].join('\n');
}
