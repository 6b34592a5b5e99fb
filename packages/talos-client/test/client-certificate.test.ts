import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createTalosClient, type TalosClientError } from "../src/index.js";
import {
  buildTalosconfig,
  type CertificateAndKey,
  generateTalosCa,
  issueCertificate,
} from "../src/testing/index.js";
import { type Cluster, startCluster } from "./helpers.js";

/** The base64 body of a PEM key, to prove it never reaches an error. */
function keyBody(pem: string): string {
  return pem.split("\n").slice(1, -2).join("");
}

function expectNoKeyMaterial(
  expect: (value: unknown) => { not: { toContain(text: string): void } },
  error: TalosClientError,
  key: string,
): void {
  const text = `${error.message} ${JSON.stringify(error.details)}`;
  expect(text).not.toContain(keyBody(key));
  expect(text).not.toContain("PRIVATE KEY");
}

describe("createTalosClient when the node refuses the client certificate", () => {
  let cluster: Cluster;
  let stranger: CertificateAndKey;

  beforeAll(async () => {
    cluster = await startCluster({ bootstrap: false });
    const other = await generateTalosCa();
    stranger = await issueCertificate({ ca: other, usage: "client", organizations: ["os:admin"] });
  });
  afterAll(async () => {
    await cluster.close();
  });

  const clientWith = (identity: CertificateAndKey) =>
    createTalosClient({
      talosconfig: buildTalosconfig({
        endpoints: [cluster.emulator.node("cp1").endpoint],
        ca: cluster.ca.crt,
        crt: identity.crt,
        key: identity.key,
      }),
      readAttempts: 1,
    });

  it("reports TLS_ERROR naming what to check when the certificate is signed by another CA", async ({
    expect,
  }) => {
    const client = clientWith(stranger);
    const [result] = await client.version();
    client.close();
    expect(result).toMatchObject({
      ok: false,
      error: { code: "TLS_ERROR", details: { closedAfterHandshake: true } },
    });
    const error = (result as { error: TalosClientError }).error;
    expect(error.message).toContain("refuses a client certificate");
    expect(error.message).toMatch(/signed by the cluster's OS CA.*has not expired.*os:admin/);
    expectNoKeyMaterial(expect, error, stranger.key);
  });

  it("reports TLS_ERROR when the certificate has expired", async ({ expect }) => {
    const expired = await issueCertificate({
      ca: cluster.ca,
      usage: "client",
      organizations: ["os:admin"],
      notBefore: new Date(Date.now() - 48 * 3600_000),
      notAfter: new Date(Date.now() - 24 * 3600_000),
    });
    const client = clientWith(expired);
    await expect(client.bootstrap()).rejects.toMatchObject({ code: "TLS_ERROR" });
    client.close();
  });

  it("reports PERMISSION_DENIED, not a TLS error, when the certificate lacks the role", async ({
    expect,
  }) => {
    const reader = await issueCertificate({ ca: cluster.ca, usage: "client", organizations: ["os:reader"] });
    const client = clientWith(reader);
    await expect(client.bootstrap()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    client.close();
  });

  it("reports UNAVAILABLE again once the refusing node goes down", async ({ expect }) => {
    const client = clientWith(stranger);
    const [refused] = await client.version();
    expect(refused).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
    const node = cluster.emulator.node("cp1");
    node.stop();
    try {
      // grpc-js reports the refusal until its reconnect backoff (about a second) lets it try again.
      let code: string | undefined;
      for (let i = 0; i < 50 && code !== "UNAVAILABLE"; i++) {
        const [result] = await client.version();
        code = result?.ok === false ? result.error.code : "OK";
        if (code !== "UNAVAILABLE") await new Promise((r) => setTimeout(r, 200));
      }
      expect(code).toBe("UNAVAILABLE");
    } finally {
      node.start();
      client.close();
    }
  });
});

describe("createGrpcTransport with a node that sends a TLS alert", () => {
  /**
   * Answers the ClientHello with a fatal TLS alert record, as Go's TLS stack (apid) does when it rejects the
   * client certificate during a TLS 1.2 handshake.
   */
  async function alertingServer(alert: number): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("data", () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, alert])));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      port: (server.address() as { port: number }).port,
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  let ca: CertificateAndKey;
  let admin: CertificateAndKey;
  beforeAll(async () => {
    ca = await generateTalosCa();
    admin = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
  });

  for (const [alert, name] of [
    [42, "bad certificate"],
    [45, "certificate expired"],
    [48, "unknown ca"],
    [116, "certificate required"],
  ] as const) {
    it(`reports TLS_ERROR naming the "${name}" alert when the node sends it`, async ({ expect }) => {
      const server = await alertingServer(alert);
      try {
        const client = createTalosClient({
          endpoints: [`127.0.0.1:${server.port}`],
          ca: ca.crt,
          cert: admin.crt,
          key: admin.key,
          readAttempts: 1,
        });
        const [result] = await client.version();
        client.close();
        expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
        const error = (result as { error: TalosClientError }).error;
        expect(error.message).toContain(`refused the client certificate (TLS alert "${name}")`);
        expect(error.details?.tlsAlert).toMatch(/^ERR_SSL_.*_ALERT_/);
        expectNoKeyMaterial(expect, error, admin.key);
      } finally {
        await server.close();
      }
    });
  }

  it("keeps the generic TLS_ERROR when no client certificate was presented", async ({ expect }) => {
    const server = await alertingServer(42);
    try {
      const client = createTalosClient({
        endpoints: [`127.0.0.1:${server.port}`],
        insecure: true,
        readAttempts: 1,
      });
      const [result] = await client.version();
      client.close();
      expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
      expect((result as { error: TalosClientError }).error.message).not.toContain("client certificate");
    } finally {
      await server.close();
    }
  });
});
