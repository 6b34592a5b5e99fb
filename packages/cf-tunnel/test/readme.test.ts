import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bypass, http } from "msw";
import { describe, it, vi } from "vitest";
import type { RequestLogEntry } from "../src/testing/index.js";
import { createValidator } from "./openapi.js";
import { server } from "./setup.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("README", () => {
  it("runs the first ts example as written when imports point at the sources", async ({ expect }) => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const code = (block as string)
      .replace(
        '"@talos-homelab/cf-tunnel/testing"',
        JSON.stringify(pathToFileURL(join(root, "src/testing/index.ts")).href),
      )
      .replace('"@talos-homelab/cf-tunnel"', JSON.stringify(pathToFileURL(join(root, "src/index.ts")).href));
    const dir = join(root, ".vitest-results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "readme-example.ts");
    writeFileSync(file, code);
    // Forward to the example's own emulator server and keep every exchange for schema validation.
    const exchanges: RequestLogEntry[] = [];
    server.use(
      http.all(/^http:\/\/127\.0\.0\.1:\d+\//, async ({ request }) => {
        const text = request.method === "GET" ? "" : await request.clone().text();
        const response = await fetch(bypass(request));
        const url = new URL(request.url);
        const path = url.pathname.replace(/^\/client\/v4/, "");
        exchanges.push({
          seq: exchanges.length + 1,
          method: request.method,
          path,
          query: url.search,
          operation: path === "/zones" ? "zones.list" : "subset",
          status: response.status,
          requestBody: text === "" ? undefined : JSON.parse(text),
          responseBody: await response.clone().json(),
        });
        return response;
      }),
    );
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await import(pathToFileURL(file).href);
      const printed = String(log.mock.calls[0]?.[0]);
      expect(printed).toContain("+ application grafana.example.com");
      expect(printed).toContain("+ CNAME blog.example.com");
      const validator = createValidator();
      expect(exchanges.length).toBeGreaterThan(5);
      expect(exchanges.flatMap((e) => validator.validate(e))).toEqual([]);
    } finally {
      log.mockRestore();
    }
  });
});
