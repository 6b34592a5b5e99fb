import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { http, passthrough } from "msw";
import { describe, it, vi } from "vitest";
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
    server.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()));
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await import(pathToFileURL(file).href);
      const printed = String(log.mock.calls[0]?.[0]);
      expect(printed).toContain("+ application grafana.example.com");
      expect(printed).toContain("+ CNAME blog.example.com");
    } finally {
      log.mockRestore();
    }
  });
});
