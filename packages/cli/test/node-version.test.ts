import { describe, it } from "vitest";
import { checkNodeVersion, MIN_NODE_VERSION } from "../src/index.js";

describe("checkNodeVersion", () => {
  it.for(["22.19.0", "22.19.1", "22.20.0", "23.0.0", "24.11.0", "v24.21.0", "25.0.0-pre"])(
    "accepts %s when it is at least the minimum",
    (version, { expect }) => {
      expect(checkNodeVersion(version)).toBeUndefined();
    },
  );

  it.for(["22.18.9", "22.12.0", "20.20.2", "v21.7.3", "18.0.0"])(
    "returns one line naming the version when %s is too old",
    (version, { expect }) => {
      expect(checkNodeVersion(version)).toBe(`homelab needs Node.js 22.19 or newer; this is ${version}`);
    },
  );

  it("matches engines.node in package.json when the minimum is read", async ({ expect }) => {
    const { default: pkg } = await import("../package.json", { with: { type: "json" } });
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_VERSION}`);
  });
});
