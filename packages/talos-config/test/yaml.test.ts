import { describe, it } from "vitest";
import {
  isDocumentOfKind,
  parseDocuments,
  REDACTED,
  redactDocuments,
  stringifyDocuments,
} from "../src/index.js";

const SECRETS = {
  version: "v1alpha1",
  machine: { type: "controlplane", token: "abc.0123456789abcdef", ca: { crt: "Q1JU", key: "S0VZ" } },
  cluster: {
    secret: "c2VjcmV0",
    token: "abcdef.0123456789abcdef",
    aescbcEncryptionSecret: "YWVz",
    extraManifestHeaders: { Authorization: "Bearer hunter2" },
  },
};

describe("stringifyDocuments", () => {
  it("orders keys the same way whatever the insertion order", ({ expect }) => {
    const a = { name: "eno1", kind: "LinkConfig", apiVersion: "v1alpha1", up: true, mtu: 1500 };
    const b = { mtu: 1500, up: true, apiVersion: "v1alpha1", name: "eno1", kind: "LinkConfig" };
    expect(stringifyDocuments([a])).toBe(stringifyDocuments([b]));
    expect(stringifyDocuments([a])).toBe(
      "apiVersion: v1alpha1\nkind: LinkConfig\nname: eno1\nmtu: 1500\nup: true\n",
    );
  });

  it("quotes YAML 1.1 booleans so Go reads them as strings", ({ expect }) => {
    expect(stringifyDocuments([{ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off" }])).toContain(
      'auto: "off"',
    );
  });

  it("adds a comment per document when comments are on", ({ expect }) => {
    const text = stringifyDocuments(
      [
        { version: "v1alpha1", machine: { type: "worker" } },
        { apiVersion: "v1alpha1", kind: "LinkConfig", name: "eno1" },
      ],
      { comments: true },
    );
    expect(text).toMatchInlineSnapshot(`
      "# v1alpha1: machine and cluster settings (legacy document)
      version: v1alpha1
      machine:
        type: worker
      ---
      # LinkConfig/eno1: addresses, routes and MTU of a link
      apiVersion: v1alpha1
      kind: LinkConfig
      name: eno1
      "
    `);
  });

  it("redacts tokens, keys, secrets, auth headers and secret environment values when redact is on", ({
    expect,
  }) => {
    const text = stringifyDocuments(
      [
        SECRETS,
        {
          apiVersion: "v1alpha1",
          kind: "ExtensionServiceConfig",
          name: "cloudflared",
          environment: ["TUNNEL_TOKEN=t0k3n", "TUNNEL_METRICS=localhost:2000"],
        },
      ],
      { redact: true },
    );
    for (const secret of [
      "abc.0123456789abcdef",
      "S0VZ",
      "c2VjcmV0",
      "abcdef.0123456789abcdef",
      "YWVz",
      "hunter2",
      "t0k3n",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("crt: Q1JU");
    expect(text).toContain(`TUNNEL_TOKEN=${REDACTED}`);
    expect(text).toContain("TUNNEL_METRICS=localhost:2000");
  });
});

describe("redactDocuments", () => {
  it("redacts the secret fields of other document kinds", ({ expect }) => {
    const docs = [
      { apiVersion: "v1alpha1", kind: "DiscoveryIdentityConfig", clusterID: "id-1", clusterSecret: "cs" },
      {
        apiVersion: "v1alpha1",
        kind: "WireguardConfig",
        name: "wg0",
        privateKey: "pk",
        peers: [{ publicKey: "pub", presharedKey: "psk" }],
      },
      {
        apiVersion: "v1alpha1",
        kind: "RegistryAuthConfig",
        name: "ghcr.io",
        username: "u",
        password: "p",
        identityToken: "it",
      },
      { apiVersion: "v1alpha1", kind: "HCloudVIPConfig", name: "1.2.3.4", apiToken: "at" },
    ];
    expect(redactDocuments(docs)).toEqual([
      { apiVersion: "v1alpha1", kind: "DiscoveryIdentityConfig", clusterID: "id-1", clusterSecret: REDACTED },
      {
        apiVersion: "v1alpha1",
        kind: "WireguardConfig",
        name: "wg0",
        privateKey: REDACTED,
        peers: [{ publicKey: "pub", presharedKey: REDACTED }],
      },
      {
        apiVersion: "v1alpha1",
        kind: "RegistryAuthConfig",
        name: "ghcr.io",
        username: "u",
        password: REDACTED,
        identityToken: REDACTED,
      },
      { apiVersion: "v1alpha1", kind: "HCloudVIPConfig", name: "1.2.3.4", apiToken: REDACTED },
    ]);
  });

  it("returns a redacted copy and leaves the input untouched", ({ expect }) => {
    const [copy] = redactDocuments([SECRETS]);
    expect(copy).toMatchObject({
      machine: { token: REDACTED, ca: { key: REDACTED, crt: "Q1JU" } },
      cluster: { secret: REDACTED },
    });
    expect(SECRETS.machine.token).toBe("abc.0123456789abcdef");
  });
});

describe("parseDocuments", () => {
  it("round-trips stringified documents and skips empty ones", ({ expect }) => {
    const docs = [SECRETS, { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "n1" }];
    expect(parseDocuments(`---\n${stringifyDocuments(docs)}---\n`)).toEqual(docs);
  });

  it("throws PARSE_ERROR with the document index and never the text when YAML is invalid", ({ expect }) => {
    const text = "version: v1alpha1\n---\nmachine:\n  token: s3cr3t\n   bad: [\n";
    let error: unknown;
    try {
      parseDocuments(text);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "PARSE_ERROR", details: { document: 1 } });
    expect(String((error as Error).message)).not.toContain("s3cr3t");
  });

  it("throws PARSE_ERROR when a document is not a mapping", ({ expect }) => {
    expect(() => parseDocuments("- a\n- b\n")).toThrowError(
      /document 0: a config document must be a mapping/,
    );
  });
});

describe("isDocumentOfKind", () => {
  it("narrows parsed documents to their typed model by kind", ({ expect }) => {
    const docs = parseDocuments(
      "version: v1alpha1\nmachine:\n  type: worker\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eno1\nmtu: 9000\n",
    );
    const link = docs.find((d) => isDocumentOfKind(d, "LinkConfig"));
    expect(link && isDocumentOfKind(link, "LinkConfig") ? link.mtu : undefined).toBe(9000);
    expect(isDocumentOfKind(docs[0]!, "v1alpha1")).toBe(true);
    expect(isDocumentOfKind(docs[0]!, "LinkConfig")).toBe(false);
  });
});

describe("stringifyDocuments shared values", () => {
  it("writes a value used twice in full instead of as a YAML anchor and alias", ({ expect }) => {
    const subnets = ["10.96.0.0/12"];
    const text = stringifyDocuments([
      { version: "v1alpha1", cluster: { network: { serviceSubnets: subnets, podSubnets: subnets } } },
    ]);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text.match(/10\.96\.0\.0\/12/g)).toHaveLength(2);
  });
});
