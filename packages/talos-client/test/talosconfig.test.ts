import { inspect } from "node:util";
import { describe, it } from "vitest";
import {
  findTalosconfig,
  loadTalosconfig,
  parseTalosconfig,
  resolveCredentials,
  selectContext,
} from "../src/index.js";
import { generateTalosCa, issueCertificate } from "../src/testing/index.js";

const YAML = `context: lab
contexts:
  lab:
    endpoints: [10.0.0.2, "10.0.0.3:50001", "https://cp.example:443"]
    nodes: [10.0.0.2]
    ca: Y2E=
    crt: Y3J0
    key: a2V5
  other:
    target: 10.1.0.1
`;

describe("parseTalosconfig", () => {
  it("reads contexts, endpoints, nodes and the legacy target when given YAML", ({ expect }) => {
    const config = parseTalosconfig(YAML);
    expect(config.context).toBe("lab");
    expect(config.contexts.lab?.endpoints).toEqual(["10.0.0.2", "10.0.0.3:50001", "https://cp.example:443"]);
    expect(config.contexts.lab?.nodes).toEqual(["10.0.0.2"]);
    expect(config.contexts.other?.endpoints).toEqual(["10.1.0.1"]);
  });

  it("hides the key from inspect and JSON when a context holds one", ({ expect }) => {
    const config = parseTalosconfig(YAML);
    expect(inspect(config, { depth: 5 })).not.toContain("a2V5");
    expect(JSON.stringify(config)).not.toContain("a2V5");
    expect(config.contexts.lab?.key).toBe("a2V5");
  });

  it("throws INVALID_TALOSCONFIG when endpoints is not a list", ({ expect }) => {
    expect(() => parseTalosconfig("contexts:\n  a:\n    endpoints: 5\n")).toThrowError(
      expect.objectContaining({ code: "INVALID_TALOSCONFIG", details: { path: "contexts.a.endpoints" } }),
    );
  });

  it("throws INVALID_TALOSCONFIG without quoting the text when it is not YAML", ({ expect }) => {
    const text = "context: a\ncontexts:\n  a:\n    key: c2VjcmV0: [\n";
    let caught: unknown;
    try {
      parseTalosconfig(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "INVALID_TALOSCONFIG" });
    expect(inspect(caught, { depth: 10 })).not.toContain("c2VjcmV0");
  });
});

describe("loadTalosconfig", () => {
  it("accepts YAML text, an object, and reports a missing file", async ({ expect }) => {
    expect((await loadTalosconfig(YAML)).context).toBe("lab");
    expect((await loadTalosconfig({ contexts: { x: { endpoints: ["a"] } } })).contexts.x?.endpoints).toEqual([
      "a",
    ]);
    await expect(loadTalosconfig("/nonexistent/talosconfig")).rejects.toMatchObject({
      code: "INVALID_TALOSCONFIG",
    });
  });
});

describe("selectContext", () => {
  it("picks the current, the named, or fails on an unknown context", ({ expect }) => {
    const config = parseTalosconfig(YAML);
    expect(selectContext(config).name).toBe("lab");
    expect(selectContext(config, "other").context.endpoints).toEqual(["10.1.0.1"]);
    expect(() => selectContext(config, "nope")).toThrowError(
      expect.objectContaining({ code: "INVALID_TALOSCONFIG" }),
    );
  });
});

const PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";

describe("resolveCredentials", () => {
  it("decodes base64 PEM including an ED25519 PRIVATE KEY when talosctl wrote it", async ({ expect }) => {
    const ca = await generateTalosCa();
    const client = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
    expect(client.key).toContain("BEGIN ED25519 PRIVATE KEY");
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    const config = parseTalosconfig(
      `context: a\ncontexts:\n  a:\n    endpoints: [x]\n    ca: ${b64(ca.crt)}\n    crt: ${b64(client.crt)}\n    key: ${b64(client.key)}\n`,
    );
    const creds = resolveCredentials(selectContext(config).context, "a");
    expect(creds.ca).toBe(ca.crt);
    expect(creds.key).toContain("ED25519 PRIVATE KEY");
  });

  it("throws naming the field when the key is missing", ({ expect }) => {
    expect(() => resolveCredentials({ endpoints: [], nodes: [], ca: PEM, crt: PEM }, "lab")).toThrowError(
      expect.objectContaining({ code: "INVALID_TALOSCONFIG", details: { path: "contexts.lab.key" } }),
    );
  });
});

describe("talosconfig as talosctl reads it", () => {
  it("accepts a context without ca (the system roots verify the server then)", async ({ expect }) => {
    const ca = await generateTalosCa();
    const admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const config = parseTalosconfig(
      `context: a\ncontexts:\n  a:\n    endpoints: [10.0.0.2]\n    crt: ${b64(admin.crt)}\n    key: ${b64(admin.key)}\n`,
    );
    const creds = resolveCredentials(selectContext(config).context, "a");
    expect(creds.ca).toBeUndefined();
    expect(creds.cert).toContain("BEGIN CERTIFICATE");
  });

  it("names an unsupported auth kind instead of reporting a missing crt", ({ expect }) => {
    const config = parseTalosconfig(
      "context: omni\ncontexts:\n  omni:\n    endpoints: [https://x.omni.siderolabs.io]\n    auth:\n      siderov1:\n        identity: me@example.com\n",
    );
    expect(() => resolveCredentials(selectContext(config).context, "omni")).toThrowError(
      expect.objectContaining({
        code: "INVALID_TALOSCONFIG",
        rawMessage: expect.stringContaining("siderov1 (Omni), which talos-client does not support"),
      }),
    );
  });

  it("finds the talosconfig where talosctl looks: $TALOSCONFIG, $TALOS_HOME/config, ~/.talos/config", async ({
    expect,
  }) => {
    const { mkdtemp, mkdir, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const home = await mkdtemp(join(tmpdir(), "talosconfig-"));
    try {
      expect(await findTalosconfig({ env: {}, homedir: home })).toBeUndefined();
      await mkdir(join(home, ".talos"));
      await writeFile(join(home, ".talos", "config"), "contexts: {}\n");
      expect(await findTalosconfig({ env: {}, homedir: home })).toBe(join(home, ".talos", "config"));
      await mkdir(join(home, "th"));
      await writeFile(join(home, "th", "config"), "contexts: {}\n");
      expect(await findTalosconfig({ env: { TALOS_HOME: join(home, "th") }, homedir: home })).toBe(
        join(home, "th", "config"),
      );
      expect(await findTalosconfig({ env: { TALOSCONFIG: "/x/cfg" }, homedir: home })).toBe("/x/cfg");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
