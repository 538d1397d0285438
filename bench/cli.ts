// The entry of a bench command run as a script (`tsx bench/compare.ts ...`): main runs only when
// this module is the one node was started with, not when a test imports it.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Runs `main` with the command line's arguments when the module at `url` (its import.meta.url)
 * is the script node was started with; its return value is the exit code. An error is printed
 * as "name: message", with exit code 2.
 */
export function runIfMain(url: string, name: string, main: (argv: string[]) => number): void {
  if (process.argv[1] === undefined || url !== pathToFileURL(resolve(process.argv[1])).href) return;
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
