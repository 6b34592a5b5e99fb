import type { ArgoBootstrapModule } from "../adapters/argo-bootstrap.js";

interface KubeconfigAccess {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure: boolean;
}

type Named<T> = { name?: string } & T;

/**
 * The server and credentials of the kubeconfig's current context when they are plain (token,
 * client certificate, CA, or none); undefined for anything else (exec plugins, files, proxies).
 */
async function plainAccess(kubeconfig: string): Promise<KubeconfigAccess | undefined> {
  const { parse } = await import("yaml");
  const doc = parse(kubeconfig) as {
    "current-context"?: string;
    contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
    clusters?: Named<{ cluster?: Record<string, unknown> }>[];
    users?: Named<{ user?: Record<string, unknown> }>[];
  };
  const context = doc.contexts?.find((c) => c.name === doc["current-context"])?.context;
  const cluster = doc.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== "string") return undefined;
  const known = new Set(["token", "client-certificate-data", "client-key-data"]);
  if (Object.keys(user).some((k) => !known.has(k))) return undefined;
  if (
    Object.keys(cluster).some(
      (k) => !["server", "certificate-authority-data", "insecure-skip-tls-verify"].includes(k),
    )
  )
    return undefined;
  const data = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64") : undefined);
  const access: KubeconfigAccess = {
    server: cluster.server,
    insecure: cluster["insecure-skip-tls-verify"] === true,
  };
  const ca = data(cluster["certificate-authority-data"]);
  const cert = data(user["client-certificate-data"]);
  const key = data(user["client-key-data"]);
  if (ca) access.ca = ca;
  if (cert) access.cert = cert;
  if (key) access.key = key;
  if (typeof user.token === "string") access.token = user.token;
  return access;
}

async function get(access: KubeconfigAccess, path: string, signal: AbortSignal): Promise<unknown> {
  const url = new URL(path, access.server);
  const { request } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        headers: {
          accept: "application/json",
          ...(access.token ? { authorization: `Bearer ${access.token}` } : {}),
        },
        signal,
        ...(url.protocol === "https:"
          ? {
              rejectUnauthorized: !access.insecure,
              ...(access.ca ? { ca: access.ca } : {}),
              ...(access.cert ? { cert: access.cert } : {}),
              ...(access.key ? { key: access.key } : {}),
            }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 404) return resolve(undefined);
          if (res.statusCode !== 200) return reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * Reads one namespaced object of the Argo CD API for a plan. A plain kubeconfig (token, client
 * certificate) is read with one HTTP GET: the plan of a converged cluster then does not load the
 * whole Kubernetes client. Anything else goes through argo-bootstrap's client.
 */
export async function readArgoObject(
  argo: ArgoBootstrapModule,
  kubeconfig: string,
  ref: { apiVersion: string; kind: string; plural: string; name: string; namespace: string },
  signal: AbortSignal,
): Promise<Record<string, unknown> | undefined> {
  const access = await plainAccess(kubeconfig).catch(() => undefined);
  if (access) {
    const path = `/apis/${ref.apiVersion}/namespaces/${ref.namespace}/${ref.plural}/${ref.name}`;
    return (await get(access, path, signal)) as Record<string, unknown> | undefined;
  }
  return argo
    .createKubeClient({ kubeconfig })
    .get(
      { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace: ref.namespace },
      { signal },
    );
}
