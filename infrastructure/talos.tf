# Talos: secrets, one machine configuration per role, one configuration apply per node, bootstrap
# on exactly one control plane, the cluster kubeconfig and the talosconfig.
#
# Patch order (later wins): role patch files, then per node: the CLI-rendered node patch file
# (files/<node>.patch.yaml: hostname, links, addresses, routes, nameservers, install disk and
# image, cluster network), then the install patch from the variables, then the extension service
# configs that carry secrets (cloudflared tunnel token, tailscale auth key), which never touch disk.

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

  node_patch_file = { for name, n in local.nodes : name => "${path.module}/files/${name}.patch.yaml" }

  install_patches = {
    for name, n in local.nodes : name => yamlencode({
      machine = {
        install = merge(
          n.install_disk == null ? {} : { disk = n.install_disk },
          var.cluster.installer_image == null ? {} : { image = var.cluster.installer_image },
        )
      }
    })
  }

  # The same rules as the direct engine: cloudflared only with the extension and a tunnel, on
  # nodes with tunnel = true; tailscale only with the extension, on nodes not opted out.
  has_cloudflared = contains(var.cluster.extensions, "siderolabs/cloudflared")
  has_tailscale   = contains(var.cluster.extensions, "siderolabs/tailscale")

  cloudflared_patch = var.tunnel == null || !local.has_cloudflared ? null : yamlencode({
    apiVersion = "v1alpha1"
    kind       = "ExtensionServiceConfig"
    name       = "cloudflared"
    environment = [
      "TUNNEL_TOKEN=${data.cloudflare_zero_trust_tunnel_cloudflared_token.this[0].token}",
      "TUNNEL_METRICS=localhost:2000",
    ]
  })

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

resource "talos_machine_secrets" "this" {
  talos_version = var.cluster.talos_version
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

  config_patches = compact(concat(
    [fileexists(local.node_patch_file[each.key]) ? file(local.node_patch_file[each.key]) : ""],
    [local.install_patches[each.key]],
    each.value.tunnel && local.cloudflared_patch != null ? [local.cloudflared_patch] : [],
    local.tailscale_patches[each.key] != null ? [local.tailscale_patches[each.key]] : [],
  ))

  timeouts = {
    create = "10m"
    update = "10m"
  }

  lifecycle {
    precondition {
      condition     = fileexists(local.node_patch_file[each.key])
      error_message = "The node patch file files/${each.key}.patch.yaml is missing: run `homelab render` first."
    }
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
