// scripts/bundle-size.mjs: the main entry, minified and gzipped, within package.json's budget.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { assertDistFresh } from "../scripts/built.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const budget = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).sizeBudget?.gzip;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "scripts", "bundle-size.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("bundle size", () => {
  beforeAll(() => assertDistFresh("bundle size test"));

  it("package.json sets a budget in bytes", () => {
    expect(Number.isSafeInteger(budget) && budget > 0).toBe(true);
  });

  it("reports the minified, gzipped main entry within the budget", () => {
    const r = run("--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ entry: "dist/index.js", budget, ok: true });
    // gzip of minified code is smaller than the minified code, which is smaller than the build.
    expect(report.gzip).toBeGreaterThan(0);
    expect(report.gzip).toBeLessThan(report.minified);
    expect(report.minified).toBeLessThan(report.raw);
    expect(report.gzip).toBeLessThanOrEqual(budget);
  });

  it("fails, saying by how much, when the entry is over the budget", () => {
    const r = run("--budget", "100");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dist\/index\.js is \d+ B gzip, over the budget of 100 B/);
  });
});
