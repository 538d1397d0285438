// The entry of a bench command run as a script (`tsx bench/compare.ts ...`): main runs only when
// this module is the one node was started with, not when a test imports it.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Runs `main` with the command line's arguments when the module at `url` (its import.meta.url)
 * is the script node was started with; its return value (or what it resolves to) is the exit
 * code. An error, thrown or rejected, is printed as "name: message", with exit code 2.
 */
export function runIfMain(
  url: string,
  name: string,
  main: (argv: string[]) => number | Promise<number>,
): void {
  if (process.argv[1] === undefined || url !== pathToFileURL(resolve(process.argv[1])).href) return;
  const fail = (e: unknown): void => {
    process.stderr.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  };
  try {
    const code = main(process.argv.slice(2));
    if (typeof code === "number") process.exitCode = code;
    else
      code.then((c) => {
        process.exitCode = c;
      }, fail);
  } catch (e) {
    fail(e);
  }
}
