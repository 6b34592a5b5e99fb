import { createServer, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createTalosClient } from "../src/index.js";
import { type CertificateAndKey, generateTalosCa, issueCertificate } from "../src/testing/index.js";
import { type Cluster, startCluster } from "./helpers.js";

// Node emits DEP0123 once per process, so listen from the start of this file (each file runs in its own
// worker): every connection below, the cluster set-up included, goes to 127.0.0.1.
const warnings: string[] = [];
process.on("warning", (warning: Error & { code?: string }) => {
  warnings.push(warning.code ?? warning.name);
});

/** A TLS server on 127.0.0.1 that records the SNI of every handshake it completes, then hangs up. */
async function startTlsServer(
  identity: CertificateAndKey,
): Promise<{ port: number; serverNames: (string | false | null)[]; close(): Promise<void> }> {
  const serverNames: (string | false | null)[] = [];
  const server = createServer({
    cert: identity.crt,
    key: identity.key.replace(/ED25519 PRIVATE KEY/g, "PRIVATE KEY"),
    ALPNProtocols: ["h2"],
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    serverNames.push(socket.servername);
    socket.destroy();
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    serverNames,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("createGrpcTransport TLS server name", () => {
  let cluster: Cluster;
  let ca: CertificateAndKey;
  let client: CertificateAndKey;

  beforeAll(async () => {
    cluster = await startCluster({ bootstrap: false });
    ca = await generateTalosCa();
    client = await issueCertificate({ ca, usage: "client", organizations: ["os:admin"] });
  });
  afterAll(async () => {
    await cluster.close();
  });

  it("emits no DEP0123 warning when talking mutual TLS to a 127.0.0.1 endpoint", async ({ expect }) => {
    {
      const talos = cluster.clientFor();
      const [version] = await talos.version();
      const maintenance = createTalosClient({
        endpoints: [cluster.emulator.node("cp1").endpoint],
        insecure: true,
      });
      await maintenance.version();
      maintenance.close();
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(cluster.emulator.node("cp1").endpoint).toMatch(/^127\.0\.0\.1:/);
      expect(version?.ok).toBe(true);
      expect(warnings).not.toContain("DEP0123");
    }
  });

  it("sends no SNI but verifies the IP SAN when the endpoint is an IP address", async ({ expect }) => {
    const server = await startTlsServer(
      await issueCertificate({ ca, usage: "server", ipAddresses: ["127.0.0.1"] }),
    );
    try {
      const talos = createTalosClient({
        endpoints: [`127.0.0.1:${server.port}`],
        ca: ca.crt,
        cert: client.crt,
        key: client.key,
        readAttempts: 1,
      });
      await talos.version();
      talos.close();
      // The handshake completed (the certificate was accepted for 127.0.0.1) without a server name.
      expect(server.serverNames).toEqual([false]);
    } finally {
      await server.close();
    }
  });

  it("sends the host as SNI when the endpoint is a DNS name", async ({ expect }) => {
    const server = await startTlsServer(
      await issueCertificate({ ca, usage: "server", dnsNames: ["localhost"] }),
    );
    try {
      const talos = createTalosClient({
        endpoints: [`localhost:${server.port}`],
        ca: ca.crt,
        cert: client.crt,
        key: client.key,
        readAttempts: 1,
      });
      await talos.version();
      talos.close();
      expect(server.serverNames).toContain("localhost");
    } finally {
      await server.close();
    }
  });

  it("rejects the server certificate with TLS_ERROR when the endpoint IP is not among its SANs", async ({
    expect,
  }) => {
    const server = await startTlsServer(
      await issueCertificate({ ca, usage: "server", dnsNames: ["localhost"], ipAddresses: ["10.0.0.1"] }),
    );
    try {
      const talos = createTalosClient({
        endpoints: [`127.0.0.1:${server.port}`],
        ca: ca.crt,
        cert: client.crt,
        key: client.key,
        readAttempts: 1,
      });
      const [result] = await talos.version();
      talos.close();
      expect(result).toMatchObject({ ok: false, error: { code: "TLS_ERROR" } });
      expect(result?.ok === false && result.error.message).toMatch(/127\.0\.0\.1/);
      expect(server.serverNames).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
