import { join } from "node:path";
import { describe, it } from "vitest";
import { exportNames } from "../../../scripts/export-names.mjs";

// The public surface is a decision: adding or removing an export changes the snapshot next to this
// file, which a reviewer sees. Update it with `vitest run test/exports.test.ts -u`.
describe("public surface", () => {
  it.for(["index", "testing/index"])(
    "src/%s.ts exports exactly the names in test/exports/",
    { timeout: 120_000 },
    async (entry, { expect }) => {
      const names = exportNames(join(import.meta.dirname, "..", "src", `${entry}.ts`));
      await expect(`${names.join("\n")}\n`).toMatchFileSnapshot(
        `./exports/${entry.replace("/index", "")}.txt`,
      );
    },
  );
});
