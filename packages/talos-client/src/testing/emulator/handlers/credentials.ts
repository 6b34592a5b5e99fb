import * as grpc from "@grpc/grpc-js";
import { stringify } from "yaml";
import { MachineService } from "../../../gen/machine/machine_pb.js";
import { packTarGz } from "../../../internal/tar.js";
import { buildTalosconfig, issueCertificate } from "../../pki.js";
import { type Route, serverStream, unary } from "../route.js";
import { type KubeconfigContext, StatusError } from "../types.js";
import { requireControlPlane } from "./guards.js";

const M = MachineService.method;

function defaultKubeconfig(ctx: KubeconfigContext): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: ctx.clusterName,
        cluster: { server: ctx.endpoint, "certificate-authority-data": "ZW11bGF0ZWQ=" },
      },
    ],
    users: [
      {
        name: `admin@${ctx.clusterName}`,
        user: { "client-certificate-data": "ZW11bGF0ZWQ=", "client-key-data": "ZW11bGF0ZWQ=" },
      },
    ],
    contexts: [
      {
        name: `admin@${ctx.clusterName}`,
        context: { cluster: ctx.clusterName, user: `admin@${ctx.clusterName}`, namespace: "default" },
      },
    ],
    "current-context": `admin@${ctx.clusterName}`,
  });
}
/** Credentials a control plane hands out: the kubeconfig and talosconfigs (GenerateClientConfiguration). */
export const credentialRoutes: Route[] = [
  serverStream(M.kubeconfig, async function* (_req, { node }) {
    const config = requireControlPlane(node, "Kubeconfig");
    const context = {
      node: node.name,
      address: node.address,
      clusterName: config.clusterName,
      endpoint: config.endpoint,
    };
    const text = await (node.fleet.options.kubeconfig ?? defaultKubeconfig)(context);
    const archive = packTarGz([{ name: "kubeconfig", content: new TextEncoder().encode(text) }]);
    const chunk = 16 * 1024;
    for (let offset = 0; offset < archive.length; offset += chunk) {
      yield { bytes: archive.subarray(offset, offset + chunk) };
    }
  }),
  unary(M.generateClientConfiguration, async (req, { node }) => {
    const config = requireControlPlane(node, "GenerateClientConfiguration");
    const ttl = req.crtTtl === undefined ? 0 : Number(req.crtTtl.seconds) * 1000;
    if (ttl <= 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "crt_ttl must be positive");
    if (req.roles.length === 0) throw new StatusError(grpc.status.INVALID_ARGUMENT, "roles are required");
    const issued = await issueCertificate({
      ca: config.ca,
      usage: "client",
      organizations: req.roles,
      notAfter: new Date(Date.now() + ttl),
    });
    const context = req.roles.length === 1 ? `${req.roles[0]}@${config.clusterName}` : config.clusterName;
    const talosconfig = buildTalosconfig({
      context,
      endpoints: [],
      ca: config.ca.crt,
      crt: issued.crt,
      key: issued.key,
    });
    const enc = new TextEncoder();
    return {
      messages: [
        {
          ca: enc.encode(config.ca.crt),
          crt: enc.encode(issued.crt),
          key: enc.encode(issued.key),
          talosconfig: enc.encode(talosconfig),
        },
      ],
    };
  }),
];
