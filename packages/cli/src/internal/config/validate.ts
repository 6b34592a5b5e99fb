import { Secret } from "../../secret.js";
import type { LintFinding, TalosConfigModule } from "../adapters/talos-config.js";
import { nodeIntent } from "../plan/intent.js";
import { routesOf } from "../plan/routes.js";
import { OFFICIAL_EXTENSIONS } from "./extensions.js";
import type { HomelabConfig } from "./load.js";
import type { HomelabFile } from "./schema.js";
import { didYouMean } from "./suggest.js";

type PathKey = string | number;

/** Where {@link validateAll} reports what it finds. */
export interface IssueSink {
  /** A problem that makes the file unusable: `path` inside homelab.yaml, what is wrong, how to fix it. */
  error(path: readonly PathKey[], message: string, hint?: string): void;
  /** Something worth knowing that does not stop a run (lint warnings, shown by `doctor`). */
  note(finding: ValidationNote): void;
}

/** A non-fatal finding of a library check. */
export interface ValidationNote {
  source: "talos-config" | "cf-tunnel" | "argo-bootstrap";
  severity: "warning" | "info";
  code: string;
  path: string;
  message: string;
  hint?: string;
}

/** Splits `interfaces[0].vlans[1].id` into keys. */
export function parseFieldPath(field: string): PathKey[] {
  const out: PathKey[] = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

type NodeConfig = HomelabFile["nodes"][number];

/** Maps a talos-config intent field of node `i` to where it comes from in homelab.yaml. */
function fromIntentField(file: HomelabFile, i: number, field: string): PathKey[] {
  const node = file.nodes[i] as NodeConfig;
  const f = parseFieldPath(field);
  const [head, ...rest] = f;
  const here: PathKey[] = ["nodes", i];
  switch (head) {
    case "target":
      return node.talosVersion !== undefined ? [...here, "talosVersion"] : ["cluster", "talosVersion"];
    case "hostname":
      return [...here, "name"];
    case "role":
      return [...here, "role"];
    case "interfaces":
      // the intent spells a VLAN id `id`; homelab.yaml spells it `vlanId`
      return [
        ...here,
        "interfaces",
        ...rest.map((k, j) => (k === "id" && rest[j - 2] === "vlans" ? "vlanId" : k)),
      ];
    case "nameservers":
      return node.nameservers !== undefined
        ? [...here, "nameservers", ...rest]
        : ["cluster", "nameservers", ...rest];
    case "timeServers":
      return ["cluster", "timeServers", ...rest];
    case "nodeIp":
      return [...here, "address"];
    case "install": {
      const [what, ...more] = rest;
      if (what === "disk") return [...here, "installDisk"];
      if (what === "diskSelector") return [...here, "installDiskSelector", ...more];
      if (what === "wipe") return [...here, "wipe"];
      return ["cluster", "extensions"];
    }
    case "extensions": {
      const [which, key] = rest;
      if (which === "tailscale") {
        if (key === "hostname" && node.tailscale && node.tailscale.hostname !== undefined)
          return [...here, "tailscale", "hostname"];
        return key === "routes" || key === "extraArgs" || key === "hostname"
          ? ["tailscale", key]
          : ["tailscale"];
      }
      return ["tunnel"];
    }
    case "cluster": {
      const [key, ...more] = rest;
      if (key === "podSubnets" || key === "serviceSubnets") return ["cluster", "network", key, ...more];
      return ["cluster", ...rest];
    }
    default:
      return here;
  }
}

/** Strips the library's own `field: ` prefix from a message (the path is shown separately). */
function withoutField(message: string, field: string | undefined): string {
  if (field && message.startsWith(`${field}: `)) return message.slice(field.length + 2);
  return message;
}

function errorField(error: unknown): string | undefined {
  const field = (error as { details?: { field?: unknown } })?.details?.field;
  return typeof field === "string" ? field : undefined;
}

function rawOf(error: unknown): string {
  const e = error as { rawMessage?: unknown; message?: unknown };
  return typeof e.rawMessage === "string" ? e.rawMessage : String(e.message ?? error);
}

/** The homelab.yaml path of a lint finding of node `i` (lint paths name Talos documents). */
function fromLintFinding(file: HomelabFile, i: number, finding: LintFinding): PathKey[] {
  const node = file.nodes[i] as NodeConfig;
  const here: PathKey[] = ["nodes", i];
  const link = /^[A-Za-z0-9]+\/([^:]+):/.exec(finding.path)?.[1];
  const iface = link === undefined ? -1 : node.interfaces.findIndex((f) => f.name === link);
  switch (finding.code) {
    case "ADDRESS_OUTSIDE_GATEWAY_SUBNET":
      return iface >= 0 ? [...here, "interfaces", iface, "gateway"] : [...here, "interfaces"];
    case "VIP_OUTSIDE_LINK_SUBNET":
      return iface >= 0 ? [...here, "interfaces", iface, "vip"] : [...here, "interfaces"];
    case "COREDNS_NAMESERVER_MISMATCH":
    case "COREDNS_NAMESERVER_LOOP":
      return node.nameservers !== undefined ? [...here, "nameservers"] : ["cluster", "nameservers"];
    case "ENDPOINT_NOT_CONTROL_PLANE":
      return ["cluster", "endpoint"];
    case "INSTALL_DISK_MISSING":
    case "INSTALL_DISK_AMBIGUOUS":
      return node.installDiskSelector ? [...here, "installDiskSelector"] : here;
    case "EXTENSION_NOT_IN_SCHEMATIC":
    case "EXTENSION_SECRET_MISSING":
      return ["cluster", "extensions"];
    case "HOSTNAME_AUTO_CONFLICT":
      return [...here, "name"];
    default:
      return here;
  }
}

function overlaps(tc: TalosConfigModule, a: string, b: string): boolean {
  const x = tc.tryParseCidr(a);
  const y = tc.tryParseCidr(b);
  if (!x || !y || x.address.family !== y.address.family) return false;
  return tc.cidrContains(x, y.address) || tc.cidrContains(y, x.address);
}

/** What the CLI will hand the libraries, with placeholder secrets (nothing is resolved here). */
function withPlaceholders(file: HomelabFile): HomelabConfig {
  const { tailscale, ...rest } = file;
  const config: HomelabConfig = { ...rest };
  if (tailscale)
    config.tailscale = { ...tailscale, authKey: new Secret("validation-placeholder", "placeholder") };
  return config;
}

function portOf(service: string): number | undefined {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)(?:[/?#]|$)/.exec(service);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * Every check a library would make later, made now on the parsed file so that `doctor`, `plan` and
 * `up` fail before any side effect and with every problem at once: the Talos builders and lint per
 * node, the schematic's extensions, the tunnel routes one by one, the root Application, plus the
 * cross-layer rules no single library sees (pod/service subnet overlap, ports).
 */
export async function validateAll(file: HomelabFile, sink: IssueSink): Promise<void> {
  const tc = await import("@talos-homelab/talos-config");
  const config = withPlaceholders(file);
  const c = file.cluster;

  // cluster network: pod and service subnets must not overlap (kube-proxy and the CNI would fight)
  for (const [i, pod] of c.network.podSubnets.entries())
    for (const svc of c.network.serviceSubnets)
      if (overlaps(tc, pod, svc))
        sink.error(
          ["cluster", "network", "podSubnets", i],
          `pod subnet ${pod} overlaps service subnet ${svc}`,
          "pick disjoint ranges, e.g. podSubnets [10.244.0.0/16] and serviceSubnets [10.96.0.0/12]",
        );
  for (const [key, list] of [
    ["podSubnets", c.network.podSubnets],
    ["serviceSubnets", c.network.serviceSubnets],
  ] as const)
    list.forEach((cidr, i) => {
      const parsed = tc.tryParseCidr(cidr);
      if (parsed && tc.formatCidr(tc.networkOf(parsed)) !== tc.formatCidr(parsed))
        sink.error(
          ["cluster", "network", key, i],
          `${cidr} has host bits set`,
          `write the network address: ${tc.formatCidr(tc.networkOf(parsed))}`,
        );
    });

  // system extensions: the Image Factory knows only official names
  let schematicId: string | undefined;
  try {
    const schematic = tc.createSchematic({
      officialExtensions: [...c.extensions],
      knownExtensions: OFFICIAL_EXTENSIONS,
      ...(c.extraKernelArgs ? { extraKernelArgs: [...c.extraKernelArgs] } : {}),
    });
    schematicId = schematic.id;
  } catch (error) {
    const field = errorField(error);
    const at = field?.startsWith("officialExtensions")
      ? ["cluster", "extensions", ...parseFieldPath(field).slice(1)]
      : field?.startsWith("extraKernelArgs")
        ? ["cluster", ...parseFieldPath(field)]
        : ["cluster", "extensions"];
    const name = typeof at[2] === "number" && at[1] === "extensions" ? c.extensions[at[2]] : undefined;
    const unknown = (error as { code?: unknown }).code === "UNKNOWN_EXTENSION";
    sink.error(
      at,
      withoutField(rawOf(error), field),
      name !== undefined && unknown
        ? `use an official extension name${didYouMean(name, OFFICIAL_EXTENSIONS) || " (the Image Factory lists them per Talos version)"}`
        : name !== undefined
          ? "list each extension once"
          : undefined,
    );
  }

  // per node: the patches the builders would produce, then lint on them
  const controlPlaneAddresses = file.nodes
    .filter((n) => n.role === "controlplane")
    .flatMap((n) => [
      n.address,
      ...n.interfaces.flatMap((f) => [
        ...(f.vip ? [f.vip] : []),
        ...(f.vlans ?? []).flatMap((v) => (v.vip ? [v.vip] : [])),
      ]),
    ]);
  file.nodes.forEach((node, i) => {
    let docs: ReturnType<TalosConfigModule["buildNodePatches"]>;
    try {
      const installImage =
        schematicId === undefined
          ? undefined
          : tc.installerImage({ schematicId, version: node.talosVersion ?? c.talosVersion });
      docs = tc.buildNodePatches(
        nodeIntent(config, node, {
          tunnelToken: "validation-placeholder",
          withTailscale: true,
          ...(installImage ? { installImage } : {}),
        }),
      );
    } catch (error) {
      if (!tc.isTalosConfigError(error)) throw error;
      const field = errorField(error);
      const hint =
        error.code === "UNSUPPORTED_VERSION" ? "use a release of a supported line, e.g. v1.13.9" : undefined;
      sink.error(
        field ? fromIntentField(file, i, field) : ["nodes", i],
        withoutField(error.rawMessage, field),
        hint,
      );
      return;
    }
    const findings = tc.lint(docs, {
      role: node.role,
      target: node.talosVersion ?? c.talosVersion,
      serviceSubnets: [...c.network.serviceSubnets],
      controlPlaneAddresses,
      ...(schematicId === undefined ? {} : { schematic: { officialExtensions: [...c.extensions] } }),
      requireInstallDisk: false,
    });
    for (const f of findings) {
      const path = fromLintFinding(file, i, f);
      if (f.severity === "error") sink.error(path, `${f.message} (Talos: ${f.path})`, f.hint || undefined);
      else
        sink.note({
          source: "talos-config",
          severity: f.severity,
          code: f.code,
          path: `${node.name}: ${f.path}`,
          message: f.message,
          ...(f.hint ? { hint: f.hint } : {}),
        });
    }
  });

  // tunnel routes: one by one, so that every bad route is reported, not only the first
  if (file.tunnel) {
    const cf = await import("@talos-homelab/cf-tunnel");
    const zone = file.tunnel.zone;
    routesOf(config).forEach((route, i) => {
      try {
        cf.validateRoutes({ zone, routes: [route] });
      } catch (error) {
        if (!cf.isCfTunnelError(error)) throw error;
        const field = errorField(error);
        const keys = field ? parseFieldPath(field) : [];
        const at: PathKey[] =
          keys[0] === "routes" ? ["tunnel", "routes", i, ...keys.slice(2)] : ["tunnel", ...keys];
        // the loader already says this in its own words
        if (keys[0] === "zone") return;
        sink.error(at, withoutField(error.rawMessage, field));
      }
      const port = portOf(route.service);
      if (port !== undefined && (port < 1 || port > 65535))
        sink.error(
          ["tunnel", "routes", i, "service"],
          `port ${port} is out of range`,
          "a TCP port is 1 to 65535, e.g. http://app.apps.svc.cluster.local:80",
        );
    });
  }

  // Argo CD: the root Application (bootstrap.yaml) as argo-bootstrap renders it
  if (file.argocd) {
    const argo = await import("@talos-homelab/argo-bootstrap");
    try {
      argo.bootstrapYamlText({
        repoURL: file.argocd.repoURL,
        path: file.argocd.path,
        targetRevision: file.argocd.targetRevision,
        namespace: file.argocd.namespace,
      });
    } catch (error) {
      if (!argo.isArgoBootstrapError(error)) throw error;
      const field = errorField(error);
      const key = field === "destinationNamespace" || field === "namespace" ? "namespace" : field;
      sink.error(
        key && ["repoURL", "path", "targetRevision", "namespace"].includes(key)
          ? ["argocd", key]
          : ["argocd"],
        withoutField(error.rawMessage, field),
      );
    }
  }
}
