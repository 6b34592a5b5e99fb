import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { KubeEmulator, ProcessRunner } from "../adapters/argo-bootstrap.js";
import { loadArgoTesting } from "../adapters/argo-bootstrap.js";
import { type CloudflareEmulator, loadCfTesting } from "../adapters/cf-tunnel.js";
import { loadTalosTesting, type TalosEmulator } from "../adapters/talos-client.js";
import { loadTalosConfig } from "../adapters/talos-config.js";
import type { HomelabConfig } from "../config/load.js";
import { createImageFactoryEmulator } from "./image-factory.js";
import { kubeNodeSync } from "./kube-nodes.js";

/** Where a running lab can be reached; written to `lab.json` so other processes can use it. */
export interface LabInfo {
  version: 1;
  pid: number;
  cluster: string;
  startedAt: string;
  /** `fingerprint`: the SPKI fingerprint of the node's maintenance-mode certificate. */
  nodes: { name: string; address: string; role: string; endpoint: string; fingerprint: string }[];
  cloudflare: { url: string; accountId: string; apiToken: string };
  kube: { url: string };
  helm: { url: string };
  /** The Image Factory emulator (absent in a lab.json written before it existed). */
  imageFactory?: { url: string };
  /** Where `node add` powers on a machine for a new node (absent in a lab.json written before it existed). */
  machines?: { url: string };
}

/** A running simulated lab. */
export interface Lab {
  info: LabInfo;
  /** A `helm` for this lab (the argo-bootstrap stand-in installing into the Kubernetes emulator). */
  helm: ProcessRunner;
  /** Node state as the emulator sees it (for tests and summaries). */
  nodeState(name: string): string;
  /** The emulators themselves, for fault injection in tests. */
  emulators: { talos: TalosEmulator; cloudflare: CloudflareEmulator; kube: KubeEmulator };
  /** Powers on one more machine (maintenance mode), as `node add` asks a running lab to. */
  addMachine(spec: LabMachineSpec): Promise<LabInfo>;
  /** Each node's cloudflared, for fault injection in tests. */
  cloudflared: {
    /** From its next restart on, cloudflared on this node never connects (a crash loop); `false` heals it. */
    failOnRestart(node: string, fail?: boolean): void;
  };
  close(): Promise<void>;
}

/** A placeholder API token for the Cloudflare emulator (it accepts any token; this is not a secret). */
export const LAB_API_TOKEN = "simulated-lab-token";

function tunnelIdFromToken(token: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { t?: unknown };
    return typeof parsed.t === "string" ? parsed.t : undefined;
  } catch {
    return undefined;
  }
}

/** A machine `node add` powers on in the lab. */
export interface LabMachineSpec {
  name: string;
  address: string;
  role?: string;
  talosVersion?: string;
}

/** The lab's 127.0.0.1 endpoint for other processes: `/helm` runs helm, `/machines` powers machines on. */
async function serveLab(
  helm: ProcessRunner,
  addMachine: (spec: LabMachineSpec) => Promise<LabInfo>,
): Promise<{ server: Server; url: string; machinesUrl: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/machines") {
        let spec: LabMachineSpec;
        try {
          spec = JSON.parse(Buffer.concat(chunks).toString("utf8")) as LabMachineSpec;
        } catch {
          res.writeHead(400).end();
          return;
        }
        addMachine(spec)
          .then((info) =>
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ info })),
          )
          .catch((error: unknown) =>
            res
              .writeHead(409, { "content-type": "application/json" })
              .end(JSON.stringify({ error: String((error as Error).message ?? error) })),
          );
        return;
      }
      let body: {
        command: string;
        args: string[];
        options?: { env?: Record<string, string>; input?: string; timeoutMs?: number };
      };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400).end();
        return;
      }
      helm(body.command, body.args, body.options ?? {})
        .then((result) =>
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result)),
        )
        .catch((error: unknown) => {
          const code = (error as { code?: unknown }).code;
          res.writeHead(500, { "content-type": "application/json" }).end(
            JSON.stringify({
              error: {
                code: typeof code === "string" ? code : "ERROR",
                message: String((error as Error).message ?? error),
              },
            }),
          );
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/helm`, machinesUrl: `http://127.0.0.1:${port}/machines` };
}

/** A ProcessRunner that runs `helm` inside a lab (possibly another process) over its 127.0.0.1 endpoint. */
export function remoteHelm(url: string): ProcessRunner {
  return async (command, args, options) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        command,
        args,
        options: {
          ...(options?.env ? { env: options.env } : {}),
          ...(options?.input !== undefined ? { input: options.input } : {}),
          ...(options?.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        },
      }),
      ...(options?.signal ? { signal: options.signal } : {}),
    });
    const body = (await response.json()) as {
      exitCode: number;
      stdout: string;
      stderr: string;
      error?: { code: string; message: string };
    };
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
    return body;
  };
}

/**
 * Starts the simulated lab: one Talos API emulator node per homelab.yaml node (maintenance mode),
 * the Kubernetes emulator (its kubeconfig is what the Talos nodes hand out), the Helm stand-in
 * (served on 127.0.0.1 so another process can use it), the Cloudflare emulator on 127.0.0.1, and
 * a loop that registers a cloudflared connector for every running node whose config carries a
 * tunnel token, as `cloudflared tunnel run` would, and one that keeps a Kubernetes Node per running
 * Talos node (Ready while it runs, with its kubelet version), as the kubelets would.
 */
export async function startLab(options: {
  config: HomelabConfig;
  connectorIntervalMs?: number;
  /** The project's checkout (see gitopsCheckout): the lab's Argo CD renders argocd.repoURL's paths from it (kustomize). */
  gitCheckout?: string;
}): Promise<Lab> {
  const { config } = options;
  const [talosTesting, cfTesting, argoTesting] = await Promise.all([
    loadTalosTesting(),
    loadCfTesting(),
    loadArgoTesting(),
  ]);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const kube = await argoTesting.createKubeEmulator({ stepMs: 5 });
    closers.push(() => kube.close());
    // only a tree that is on disk: the lab cannot fetch the remote repository
    if (
      options.gitCheckout !== undefined &&
      config.argocd &&
      existsSync(join(options.gitCheckout, config.argocd.path))
    )
      kube.argo.setGitRepo(config.argocd.repoURL, options.gitCheckout);
    const helm = argoTesting.createHelmStandIn({ kube, pollMs: 5 });
    // set once the lab is up; the endpoint only answers after that
    let addMachine: (spec: LabMachineSpec) => Promise<LabInfo> = async () => {
      throw new Error("the lab is still starting");
    };
    const helmServer = await serveLab(helm, (spec) => addMachine(spec));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          helmServer.server.closeAllConnections();
          helmServer.server.close(() => resolve());
        }),
    );
    const talos = await talosTesting.createTalosEmulator({
      nodes: config.nodes.map((n) => ({
        name: n.name,
        address: n.address,
        talosVersion: n.talosVersion ?? config.cluster.talosVersion,
      })),
      kubeconfig: () => kube.kubeconfig,
    });
    closers.push(() => talos.close());
    const accountId = config.tunnel?.accountId ?? "0123456789abcdef0123456789abcdef";
    const cf = cfTesting.createCloudflareEmulator({
      accountId,
      zones: config.tunnel ? [{ name: config.tunnel.zone }] : [],
    });
    const cfServer = await cf.listen();
    closers.push(() => cfServer.close());
    const factoryServer = await createImageFactoryEmulator(await loadTalosConfig()).listen();
    closers.push(() => factoryServer.close());

    // cloudflared on each node: a connector appears once the node runs with a tunnel token
    const connectors = new Map<string, { token: string; tunnelId: string; connectorId: string }>();
    const broken = new Set<string>();
    const emulated = talos;
    // the token of each node's applied config, read again only when that config changed
    const tokens = new Map<string, { config: string | undefined; token: string | undefined }>();
    const tokenOf = (name: string, config: string | undefined) => {
      const seen = tokens.get(name);
      if (seen && seen.config === config) return seen.token;
      const token = /TUNNEL_TOKEN=([A-Za-z0-9+/=_-]+)/.exec(config ?? "")?.[1];
      tokens.set(name, { config, token });
      return token;
    };
    const syncConnectors = () => {
      for (const node of emulated.nodes) {
        const running = node.state() === "running";
        const token = running ? tokenOf(node.name, node.appliedConfig()) : undefined;
        const current = connectors.get(node.name);
        if (current) {
          const live = cf.state
            .tunnel(current.tunnelId)
            ?.connectors.some((c) => c.id === current.connectorId);
          // a new token restarts cloudflared (Talos restarts an extension service whose config changed)
          if (current.token !== token && live) cf.removeConnector(current.tunnelId, current.connectorId);
          // stopped, restarted, or its connections were deleted: it connects again on the next tick
          if (current.token !== token || !live) connectors.delete(node.name);
          continue;
        }
        if (!token || broken.has(node.name)) continue;
        const tunnelId = tunnelIdFromToken(token);
        if (!tunnelId || !cf.state.tunnel(tunnelId)) continue;
        try {
          const c = cf.addConnector(tunnelId, {
            id: randomUUID(),
            originIp: node.address,
            version: "2025.11.1",
            arch: "linux_amd64",
            token,
          });
          connectors.set(node.name, { token, tunnelId, connectorId: c.id });
        } catch {
          // refused (a token from before a rotation): cloudflared keeps retrying, as the real one does
        }
      }
    };
    const failing = new Set<string>();
    const watchRestarts = () => {
      // a failing cloudflared breaks once its connector is gone (restart, new token, deleted connections)
      for (const name of failing) if (!connectors.has(name)) broken.add(name);
    };
    // the kubelets: a Kubernetes Node per running Talos node, Ready while it runs
    const syncKubeNodes = kubeNodeSync({ talos, kube, config });
    // Connectors and Nodes change after calls to the nodes (an applied config, a reboot) or to Cloudflare (the
    // tunnel created): checked every `connectorIntervalMs` while either was called in the last second, every
    // second when the lab is idle (20 wake-ups a second cost an idle lab most of its CPU).
    const fast = options.connectorIntervalMs ?? 50;
    let calls = -1;
    let lastCall = 0;
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      const seen = talos.callLog.length + cf.requestLog.length;
      if (seen !== calls) {
        calls = seen;
        lastCall = Date.now();
      }
      syncConnectors();
      watchRestarts();
      syncKubeNodes();
      timer = setTimeout(tick, Date.now() - lastCall < 1_000 ? fast : Math.max(fast, 1_000));
      timer.unref();
    };
    tick();
    closers.push(async () => clearTimeout(timer));

    const info: LabInfo = {
      version: 1,
      pid: process.pid,
      cluster: config.cluster.name,
      startedAt: new Date().toISOString(),
      nodes: config.nodes.map((n) => ({
        name: n.name,
        address: n.address,
        role: n.role,
        endpoint: talos.node(n.name).endpoint,
        fingerprint: talos.node(n.name).maintenanceSpki,
      })),
      cloudflare: { url: cfServer.url, accountId, apiToken: LAB_API_TOKEN },
      kube: { url: kube.url },
      helm: { url: helmServer.url },
      imageFactory: { url: factoryServer.url },
      machines: { url: helmServer.machinesUrl },
    };
    addMachine = async (spec) => {
      const node = await talos.addNode({
        name: spec.name,
        address: spec.address,
        talosVersion: spec.talosVersion ?? config.cluster.talosVersion,
      });
      info.nodes.push({
        name: spec.name,
        address: spec.address,
        role: spec.role ?? "worker",
        endpoint: node.endpoint,
        fingerprint: node.maintenanceSpki,
      });
      return info;
    };
    return {
      info,
      helm,
      nodeState: (name) => talos.node(name).state(),
      emulators: { talos, cloudflare: cf, kube },
      addMachine: (spec) => addMachine(spec),
      cloudflared: {
        failOnRestart(node, fail = true) {
          talos.node(node);
          if (fail) failing.add(node);
          else {
            failing.delete(node);
            broken.delete(node);
          }
        },
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
