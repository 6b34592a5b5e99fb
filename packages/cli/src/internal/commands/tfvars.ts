import type { TfvarsInput } from "../../tofu/index.js";
import type { HomelabConfig } from "../config/load.js";

/** homelab.yaml as the tofu runner's TfvarsInput (secrets stay references; they travel as TF_VAR_*). */
export function tfvarsInputOf(config: HomelabConfig, installerImage: string): TfvarsInput {
  const c = config.cluster;
  const input: TfvarsInput = {
    cluster: {
      name: c.name,
      talosVersion: c.talosVersion,
      kubernetesVersion: c.kubernetesVersion,
      endpoint: c.endpoint,
      network: { podSubnets: c.network.podSubnets, serviceSubnets: c.network.serviceSubnets },
      allowSchedulingOnControlPlanes: c.allowSchedulingOnControlPlanes,
      nameservers: c.nameservers,
      extensions: c.extensions,
      installerImage,
    },
    nodes: config.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      address: n.address,
      installDisk: n.installDisk,
      tunnel: n.tunnel,
      tailscale: n.tailscale,
      interfaces: n.interfaces.map((f) => ({
        name: f.name,
        addresses: f.addresses,
        gateway: f.gateway,
        dhcp: f.dhcp,
        mtu: f.mtu,
        vip: f.vip,
      })),
    })),
    tunnel: config.tunnel,
    argocd: config.argocd,
  };
  if (config.tailscale) {
    input.tailscale = {
      authKey: config.tailscale.authKey.source,
      routes: config.tailscale.routes,
      hostname: config.tailscale.hostname,
      extraArgs: config.tailscale.extraArgs,
    };
  }
  return input;
}
