// Where a run's report goes. By default a folder of its own under bench/results/runs/ (ignored by
// git), named by the time and the commit, so that no run overwrites another, nor the committed
// results the README quotes; those are rewritten only when asked (--update).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GitState } from "./machine";

/** bench/ */
export const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
/** bench/results/: the committed results. */
export const RESULTS_DIR = join(BENCH_DIR, "results");
/** bench/results/runs/: one folder per run, ignored by git. */
export const RUNS_DIR = join(RESULTS_DIR, "runs");

/** "20261203T093648Z-1234abcd56" (UTC time, commit), "-dirty" for a changed work tree. */
export function runFolderName(date: Date, git: GitState | null): string {
  const time = date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const commit = git === null ? "nogit" : `${git.commit.slice(0, 10)}${git.dirty ? "-dirty" : ""}`;
  return `${time}-${commit}`;
}

export interface OutputChoice {
  /** A browser run (`npm run bench:web`): its folder ends in "-chromium", its --update name is "web". */
  browser?: boolean;
  /** Write into bench/results/ (the committed results). */
  update?: boolean;
  /** A folder of the user's (already resolved). */
  out?: string;
  /** The files' base name. */
  name?: string;
}

/**
 * The folder and base name of a run's files: bench/results/ and "latest" with update, the
 * user's folder with out, else bench/results/runs/<time>-<commit>/ (-chromium/ for a browser
 * run); the name is "report" unless given (or "latest" with update, "web" for a browser run).
 */
export function outputPlan(
  choice: OutputChoice,
  date: Date,
  git: GitState | null,
): { dir: string; name: string } {
  if (choice.update && choice.out !== undefined)
    throw new RangeError("--update writes into bench/results/; it cannot be given with --out");
  if (choice.name !== undefined && !/^[\w.-]+$/.test(choice.name))
    throw new RangeError(`--name: "${choice.name}" must be letters, digits, ".", "_" or "-"`);
  const dir = choice.update
    ? RESULTS_DIR
    : (choice.out ??
      join(RUNS_DIR, `${runFolderName(date, git)}${choice.browser ? "-chromium" : ""}`));
  const updated = choice.browser ? "web" : "latest";
  return { dir, name: choice.name ?? (choice.update ? updated : "report") };
}
