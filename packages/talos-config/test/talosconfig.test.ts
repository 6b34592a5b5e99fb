import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer, type TLSSocket } from "node:tls";
import { describe, it } from "vitest";
import { parse } from "yaml";
import { generateSecrets, generateTalosconfig } from "../src/index.js";
import { generatePrivateKeyPem, issueCertificate } from "../src/secrets/x509.js";
import { keyUsageOf, lifetimeHours } from "./helpers/certificates.js";
import { failure } from "./helpers/errors.js";

const secrets = generateSecrets();

interface Context {
  endpoints: string[];
  nodes?: string[];
  ca: string;
  crt: string;
  key: string;
}

function read(yamlText: string): { context: string; contexts: Record<string, Context> } {
  return parse(yamlText) as { context: string; contexts: Record<string, Context> };
}

function unb64(value: string): string {
  return Buffer.from(value, "base64").toString("utf8");
}

describe("generateTalosconfig", () => {
  const text = generateTalosconfig({
    secrets,
    contextName: "homelab",
    endpoints: ["192.168.50.200"],
    nodes: ["192.168.50.200", "192.168.50.201"],
  });
  const parsed = read(text);
  const ctx = parsed.contexts.homelab as Context;
  const ca = new X509Certificate(unb64(ctx.ca));
  const crt = new X509Certificate(unb64(ctx.crt));

  it("writes one current context with endpoints, nodes and the OS CA", ({ expect }) => {
    expect(parsed.context).toBe("homelab");
    expect(Object.keys(ctx)).toEqual(["endpoints", "nodes", "ca", "crt", "key"]);
    expect(ctx.endpoints).toEqual(["192.168.50.200"]);
    expect(ctx.nodes).toEqual(["192.168.50.200", "192.168.50.201"]);
    expect(unb64(ctx.ca)).toBe(secrets.certs.os.crt);
  });

  it("issues an Ed25519 admin client certificate signed by the OS CA", ({ expect }) => {
    expect(crt.checkIssued(ca)).toBe(true);
    expect(crt.verify(ca.publicKey)).toBe(true);
    expect(crt.ca).toBe(false);
    expect(crt.subject).toBe("O=os:admin");
    expect(crt.issuer).toBe("O=talos");
    expect(crt.publicKey.asymmetricKeyType).toBe("ed25519");
    expect(crt.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(keyUsageOf(unb64(ctx.crt))).toEqual({ usages: ["digitalSignature"], critical: true });
    expect(crt.subjectAltName).toBeUndefined();
    expect(lifetimeHours(crt)).toBe(8760);
  });

  it("pairs the certificate with its Ed25519 key in the ED25519 PRIVATE KEY form talosctl writes", ({
    expect,
  }) => {
    const keyPem = unb64(ctx.key);
    expect(keyPem).toMatch(/^-----BEGIN ED25519 PRIVATE KEY-----/);
    const key = createPrivateKey(keyPem.replaceAll("ED25519 PRIVATE KEY", "PRIVATE KEY"));
    expect(createPublicKey(key).export({ format: "pem", type: "spki" })).toBe(
      crt.publicKey.export({ format: "pem", type: "spki" }),
    );
  });

  it("carries every requested role as an organisation and honours the TTL", ({ expect }) => {
    const other = read(
      generateTalosconfig({
        secrets,
        contextName: "ro",
        endpoints: ["10.0.0.1:50000"],
        roles: ["os:reader", "os:etcd:backup"],
        ttlHours: 24,
      }),
    );
    const cert = new X509Certificate(unb64((other.contexts.ro as Context).crt));
    // One multi-valued RDN, as Go encodes a pkix.Name with several organisations.
    expect(cert.subject).toBe("O=os:reader + O=os:etcd:backup");
    expect(lifetimeHours(cert)).toBe(24);
    expect((other.contexts.ro as Context).nodes).toBeUndefined();
  });

  it("connects with mutual TLS to a server that trusts the OS CA", async ({ expect }) => {
    const serverKey = generatePrivateKeyPem("ed25519");
    const serverCert = issueCertificate(
      serverKey,
      {
        subject: { commonName: "localhost" },
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        isCA: false,
        keyUsage: ["digitalSignature"],
        extKeyUsage: ["serverAuth"],
        dnsNames: ["localhost"],
      },
      { certificatePem: secrets.certs.os.crt, privateKeyPem: secrets.certs.os.key },
    );
    const server = createServer({
      key: serverKey.replaceAll("ED25519 PRIVATE KEY", "PRIVATE KEY"),
      cert: serverCert,
      ca: secrets.certs.os.crt,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    });
    const peers: string[] = [];
    server.on("secureConnection", (socket: TLSSocket) => {
      peers.push(socket.getPeerX509Certificate()?.subject ?? "none");
      socket.end("ok");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const client = connect({
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: unb64(ctx.ca),
        cert: unb64(ctx.crt),
        key: unb64(ctx.key).replaceAll("ED25519 PRIVATE KEY", "PRIVATE KEY"),
      });
      await once(client, "secureConnect");
      expect(client.authorized).toBe(true);
      const [data] = (await once(client, "data")) as [Buffer];
      expect(data.toString()).toBe("ok");
      client.destroy();
      expect(peers).toEqual(["O=os:admin"]);
    } finally {
      server.close();
    }
  });

  it.for([
    [{ contextName: "" }, "contextName"],
    [{ endpoints: [] }, "endpoints"],
    [{ roles: ["os:root"] }, "roles[0]"],
    [{ ttlHours: 0 }, "ttlHours"],
  ] as const)("throws INVALID_INPUT naming the field for %o", ([override, field], { expect }) => {
    const error = failure(() =>
      generateTalosconfig({
        secrets,
        contextName: "x",
        endpoints: ["10.0.0.1"],
        ...(override as object),
      } as Parameters<typeof generateTalosconfig>[0]),
    );
    expect(error).toMatchObject({ code: "INVALID_INPUT", field });
  });
});
