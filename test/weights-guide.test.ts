// docs/weights.md's samples run as a user runs them, against the built package (`tokenwise`,
// `tokenwise/node`): the Node ones as ES modules, the browser ones in Debian's Chromium, each
// holding to the output its `// ...` lines show (scripts/docs/run-samples.mjs does the work).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { assertDistFresh } from "../scripts/built.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("docs/weights.md", () => {
  it("every sample runs and prints what the guide shows", () => {
    assertDistFresh("weights guide test");
    let out: string;
    try {
      out = execFileSync(process.execPath, ["scripts/docs/run-samples.mjs", "docs/weights.md"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`run-samples failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
    expect(out).toMatch(/^ok {3}docs\/weights\.md:\d+ \(browser\)$/m);
    expect(out.trimEnd().split("\n").at(-1)).toBe("20 passed, 0 failed");
  });
});
