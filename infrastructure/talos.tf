# Talos: the Image Factory schematic, secrets, one machine configuration per role, one configuration
# apply per node, bootstrap on exactly one control plane, the cluster kubeconfig and the talosconfig.
#
# Everything comes from the variables: `tofu init && tofu apply` with a terraform.tfvars works without
# the CLI. Patch order (later wins): optional role patch files (files/common.patch.yaml,
# files/<role>.patch.yaml), then per node the patch built here (install, kubelet node IP, cluster
# network, hostname, links, VIP, resolvers), then the extension service configs that carry secrets
# (cloudflared tunnel token, tailscale auth key), which never touch disk.
#
# The documents are those of the Talos 1.12-1.14 contract: provider siderolabs/talos 0.11 builds
# configurations with machinery v1.13.0 (its go.mod), so it cannot decode 1.14's
# UnattendedInstallConfig; Talos 1.14 still accepts the deprecated machine.install, 1.15 does not
# (variables.tf refuses 1.15 for that reason).

locals {
  nodes          = { for n in var.nodes : n.name => n }
  control_planes = { for name, n in local.nodes : name => n if n.role == "controlplane" }
  workers        = { for name, n in local.nodes : name => n if n.role == "worker" }

  # The bootstrap node: the first control plane in homelab.yaml order. Keep it first: another
  # first control plane makes the plan replace talos_machine_bootstrap.
  bootstrap_node = [for n in var.nodes : n if n.role == "controlplane"][0]

  # Optional role-wide patch files (files/common.patch.yaml, files/<role>.patch.yaml).
  role_patches = {
    for role in ["controlplane", "worker"] : role => [
      for f in ["common.patch.yaml", "${role}.patch.yaml"] : file("${path.module}/files/${f}")
      if fileexists("${path.module}/files/${f}")
    ]
  }

  # The installer: an explicit cluster.installer_image, else the Image Factory's installer for the
  # registered schematic (talos_image_factory_schematic + talos_image_factory_urls below).
  installer_image = var.cluster.installer_image != null ? var.cluster.installer_image : data.talos_image_factory_urls.this.urls.installer

  # The schematic the factory registers: the official system extensions in the order given.
  schematic = yamlencode({
    customization = {
      systemExtensions = { officialExtensions = var.cluster.extensions }
    }
  })

  # Per node: the LAN subnets the kubelet binds to (the network of the interface address that equals
  # the node's address), as the direct engine pins them.
  node_ip_subnets = {
    for name, n in local.nodes : name => distinct([
      for a in flatten([for i in n.interfaces : i.addresses]) : cidrsubnet(a, 0, 0)
      if split("/", a)[0] == n.address
    ])
  }

  # `coredns` in cluster.nameservers (as in homelab.yaml): cloudflared alone gets its own resolv.conf
  # with the CoreDNS ClusterIP (service subnet base + 10) first, then the other nameservers or the host
  # DNS 127.0.0.53; the machine's nameservers never name CoreDNS (that loops through the host DNS;
  # packages/talos-config/docs/dns.md).
  machine_nameservers = [for ns in var.cluster.nameservers : ns if ns != "coredns"]
  cloudflared_nameservers = !contains(var.cluster.nameservers, "coredns") ? [] : slice(
    concat([cidrhost(var.cluster.service_subnets[0], 10)], length(local.machine_nameservers) > 0 ? local.machine_nameservers : ["127.0.0.53"]),
    0,
    min(3, 1 + max(1, length(local.machine_nameservers))),
  )

  talos_minor         = tonumber(split(".", var.cluster.talos_version)[1])
  lone_schedulable_cp = length(local.control_planes) == 1 && var.cluster.allow_scheduling_on_control_planes
  # A lone control plane that runs workloads is the only node external load balancers can use: the
  # generated exclude-from-external-load-balancers label is deleted (machine.nodeLabels up to 1.13,
  # KubeNodeConfig from 1.14), as the direct engine does.
  lb_label_delete = { "node.kubernetes.io/exclude-from-external-load-balancers" = { "$patch" = "delete" } }

  node_patches = {
    for name, n in local.nodes : name => concat(
      [yamlencode({
        version = "v1alpha1"
        machine = merge(
          {
            install = merge(
              n.install_disk == null ? {} : { disk = n.install_disk },
              { image = local.installer_image },
            )
          },
          length(local.node_ip_subnets[name]) == 0 ? {} : {
            kubelet = { nodeIP = { validSubnets = local.node_ip_subnets[name] } }
          },
          n.role == "controlplane" && local.lone_schedulable_cp && local.talos_minor <= 13 ? { nodeLabels = local.lb_label_delete } : {},
        )
        cluster = merge(
          n.role == "controlplane" ? { allowSchedulingOnControlPlanes = var.cluster.allow_scheduling_on_control_planes } : {},
          # etcd advertises the LAN address, never a Tailscale 100.64/10 one that may sort first
          n.role == "controlplane" && length(local.node_ip_subnets[name]) > 0 ? { etcd = { advertisedSubnets = local.node_ip_subnets[name] } } : {},
          {
            controlPlane = { endpoint = var.cluster.endpoint }
            network = {
              podSubnets     = var.cluster.pod_subnets
              serviceSubnets = var.cluster.service_subnets
            }
          },
        )
      })],
      [yamlencode({ apiVersion = "v1alpha1", kind = "HostnameConfig", auto = "off", hostname = name })],
      flatten([
        for i in n.interfaces : concat(
          [yamlencode(merge(
            { apiVersion = "v1alpha1", kind = "LinkConfig", name = i.name, up = true },
            i.mtu == null ? {} : { mtu = i.mtu },
            length(i.addresses) == 0 ? {} : { addresses = [for a in i.addresses : { address = a }] },
            i.gateway == null ? {} : { routes = [{ gateway = i.gateway }] },
          ))],
          i.dhcp ? [yamlencode({ apiVersion = "v1alpha1", kind = "DHCPv4Config", name = i.name })] : [],
          i.vip != null && n.role == "controlplane" ? [yamlencode({ apiVersion = "v1alpha1", kind = "Layer2VIPConfig", name = i.vip, link = i.name })] : [],
        )
      ]),
      length(local.machine_nameservers) == 0 ? [] : [yamlencode({
        apiVersion  = "v1alpha1"
        kind        = "ResolverConfig"
        nameservers = [for ns in local.machine_nameservers : { address = ns }]
      })],
      n.role == "controlplane" && local.lone_schedulable_cp && local.talos_minor >= 14 ? [yamlencode({
        apiVersion = "v1alpha1"
        kind       = "KubeNodeConfig"
        labels     = local.lb_label_delete
      })] : [],
    )
  }

  # The same rules as the direct engine: cloudflared only with the extension and a tunnel, on
  # nodes with tunnel = true; tailscale only with the extension, on nodes not opted out.
  has_cloudflared = contains(var.cluster.extensions, "siderolabs/cloudflared")
  has_tailscale   = contains(var.cluster.extensions, "siderolabs/tailscale")

  cloudflared_patch = var.tunnel == null || !local.has_cloudflared ? null : yamlencode(merge(
    {
      apiVersion = "v1alpha1"
      kind       = "ExtensionServiceConfig"
      name       = "cloudflared"
      environment = [
        "TUNNEL_TOKEN=${data.cloudflare_zero_trust_tunnel_cloudflared_token.this[0].token}",
        "TUNNEL_METRICS=localhost:2000",
      ]
    },
    length(local.cloudflared_nameservers) == 0 ? {} : {
      configFiles = [{
        mountPath = "/etc/resolv.conf"
        content   = "${join("", [for ns in local.cloudflared_nameservers : "nameserver ${ns}\n"])}options timeout:1 attempts:2\n"
      }]
    },
  ))

  tailscale_patches = {
    for name, n in local.nodes : name => var.tailscale == null || !local.has_tailscale || !n.tailscale.enabled ? null : yamlencode({
      apiVersion = "v1alpha1"
      kind       = "ExtensionServiceConfig"
      name       = "tailscale"
      environment = concat(
        [
          "TS_AUTHKEY=${var.tailscale_auth_key == null ? "" : var.tailscale_auth_key}",
          "TS_HOSTNAME=${n.tailscale.hostname != null ? n.tailscale.hostname : (var.tailscale.hostname != null ? "${var.tailscale.hostname}-${name}" : name)}",
        ],
        length(var.tailscale.routes) > 0 ? ["TS_ROUTES=${join(",", var.tailscale.routes)}"] : [],
        length(concat(var.tailscale.extra_args, n.tailscale.extra_args)) > 0 ? ["TS_EXTRA_ARGS=${join(" ", concat(var.tailscale.extra_args, n.tailscale.extra_args))}"] : [],
      )
    })
  }
}

# Registers the schematic with the Image Factory: without it the factory answers 404 for an
# installer with extensions (an id computed offline is only known to the factory once posted).
resource "talos_image_factory_schematic" "this" {
  schematic = local.schematic
}

data "talos_image_factory_urls" "this" {
  talos_version = var.cluster.talos_version
  schematic_id  = talos_image_factory_schematic.this.id
  platform      = "metal"
}

resource "talos_machine_secrets" "this" {
  talos_version = var.cluster.talos_version

  # The secrets carry the version contract they were generated for: changing talos_version later
  # would replace them (a new cluster CA). Upgrades go through `homelab talos upgrade`.
  lifecycle {
    ignore_changes = [talos_version]
  }
}

data "talos_machine_configuration" "controlplane" {
  cluster_name       = var.cluster.name
  cluster_endpoint   = var.cluster.endpoint
  machine_type       = "controlplane"
  machine_secrets    = talos_machine_secrets.this.machine_secrets
  talos_version      = var.cluster.talos_version
  kubernetes_version = var.cluster.kubernetes_version
  docs               = false
  examples           = false
  config_patches     = local.role_patches["controlplane"]
}

data "talos_machine_configuration" "worker" {
  cluster_name       = var.cluster.name
  cluster_endpoint   = var.cluster.endpoint
  machine_type       = "worker"
  machine_secrets    = talos_machine_secrets.this.machine_secrets
  talos_version      = var.cluster.talos_version
  kubernetes_version = var.cluster.kubernetes_version
  docs               = false
  examples           = false
  config_patches     = local.role_patches["worker"]
}

# One apply per node. The provider first reaches a fresh node in maintenance mode (insecure,
# server-only TLS) and, once the node runs the configuration, talks mutual TLS with the client
# configuration from talos_machine_secrets.
resource "talos_machine_configuration_apply" "node" {
  for_each = local.nodes

  node                        = each.value.address
  endpoint                    = each.value.address
  client_configuration        = talos_machine_secrets.this.client_configuration
  machine_configuration_input = each.value.role == "controlplane" ? data.talos_machine_configuration.controlplane.machine_configuration : data.talos_machine_configuration.worker.machine_configuration
  apply_mode                  = "auto"

  config_patches = concat(
    local.node_patches[each.key],
    each.value.tunnel && local.cloudflared_patch != null ? [local.cloudflared_patch] : [],
    local.tailscale_patches[each.key] != null ? [local.tailscale_patches[each.key]] : [],
  )

  timeouts = {
    create = "10m"
    update = "10m"
  }

  lifecycle {
    precondition {
      condition     = local.tailscale_patches[each.key] == null || var.tailscale_auth_key != null
      error_message = "tailscale is configured but tailscale_auth_key is not set (TF_VAR_tailscale_auth_key)."
    }
  }
}

# Bootstrap etcd exactly once, on one control plane, after every node has its configuration.
resource "talos_machine_bootstrap" "this" {
  node                 = local.bootstrap_node.address
  endpoint             = local.bootstrap_node.address
  client_configuration = talos_machine_secrets.this.client_configuration

  timeouts = {
    create = "10m"
  }

  depends_on = [talos_machine_configuration_apply.node]
}

resource "talos_cluster_kubeconfig" "this" {
  node                         = local.bootstrap_node.address
  endpoint                     = local.bootstrap_node.address
  client_configuration         = talos_machine_secrets.this.client_configuration
  certificate_renewal_duration = "720h"

  depends_on = [talos_machine_bootstrap.this]
}

data "talos_client_configuration" "this" {
  cluster_name         = var.cluster.name
  client_configuration = talos_machine_secrets.this.client_configuration
  endpoints            = [for n in local.control_planes : n.address]
  nodes                = [for n in var.nodes : n.address]
}
