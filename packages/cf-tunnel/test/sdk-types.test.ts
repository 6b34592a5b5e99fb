import { readFile, writeFile } from "node:fs/promises";
import { describe, it } from "vitest";
import { SDK_FIELDS, SDK_IMPORTS, SDK_SCHEMAS_FILE } from "./openapi.js";
import { sdkSchemas } from "./sdk-types.js";

describe("fixtures/sdk-field-schemas.json", () => {
  it("matches what the TypeScript checker derives from the installed cloudflare SDK", {
    timeout: 120_000,
  }, async ({ expect }) => {
    const derived = sdkSchemas(SDK_IMPORTS, SDK_FIELDS);
    if (process.env.UPDATE_SDK_SCHEMAS === "1") {
      await writeFile(SDK_SCHEMAS_FILE, `${JSON.stringify(derived, null, 2)}\n`);
    }
    // Stale after an SDK upgrade: rerun this test with UPDATE_SDK_SCHEMAS=1 and review the diff.
    expect(JSON.parse(await readFile(SDK_SCHEMAS_FILE, "utf8"))).toEqual(derived);
  });
});
