# Input variables. `homelab render` writes homelab.auto.tfvars.json from homelab.yaml with exactly
# the keys below (cluster, nodes, tunnel, tailscale, argocd), so one file drives both engines.
# Secrets are never in that file: they arrive as TF_VAR_* environment variables (see the sensitive
# variables at the end) or, for Cloudflare, as CLOUDFLARE_API_TOKEN read by the provider itself.

variable "cluster" {
  description = "Cluster-wide settings (homelab.yaml `cluster`): name, Talos and Kubernetes versions, API endpoint, networks, scheduling, resolvers, system extensions and the installer image."
  type = object({
    name                               = string
    talos_version                      = string
    kubernetes_version                 = optional(string)
    endpoint                           = string
    pod_subnets                        = optional(list(string), ["10.244.0.0/16"])
    service_subnets                    = optional(list(string), ["10.96.0.0/12"])
    allow_scheduling_on_control_planes = optional(bool, false)
    nameservers                        = optional(list(string), [])
    extensions                         = optional(list(string), [])
    installer_image                    = optional(string)
  })

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.cluster.name))
    error_message = "cluster.name must be a DNS label: lowercase letters, digits and '-', at most 63 characters."
  }

  validation {
    condition     = can(regex("^v1\\.(1[1-5])\\.[0-9]+$", var.cluster.talos_version))
    error_message = "cluster.talos_version must look like v1.13.9 (supported lines v1.11 to v1.15)."
  }

  validation {
    condition     = var.cluster.kubernetes_version == null || can(regex("^v?1\\.[0-9]+\\.[0-9]+$", var.cluster.kubernetes_version))
    error_message = "cluster.kubernetes_version must look like 1.34.1 or v1.34.1."
  }

  validation {
    condition     = can(regex("^https://[^/]+:[0-9]+$", var.cluster.endpoint))
    error_message = "cluster.endpoint must be an https URL with a port and no path, e.g. https://192.168.50.200:6443."
  }

  validation {
    condition     = alltrue([for cidr in concat(var.cluster.pod_subnets, var.cluster.service_subnets) : can(cidrsubnet(cidr, 0, 0))])
    error_message = "cluster.pod_subnets and cluster.service_subnets must be CIDR ranges."
  }

  validation {
    condition     = length(var.cluster.service_subnets) > 0 && length(var.cluster.pod_subnets) > 0
    error_message = "cluster.pod_subnets and cluster.service_subnets must not be empty."
  }
}

variable "nodes" {
  description = "The machines (homelab.yaml `nodes`): name, role, the address their Talos API is reached on, install disk, network interfaces, whether they run the cloudflared connector, and per-node tailscale settings (enabled = false for homelab.yaml `tailscale: false`)."
  type = list(object({
    name         = string
    role         = string
    address      = string
    install_disk = optional(string)
    tunnel       = optional(bool, true)
    tailscale = optional(object({
      enabled    = optional(bool, true)
      hostname   = optional(string)
      extra_args = optional(list(string), [])
    }), {})
    interfaces = optional(list(object({
      name      = optional(string)
      addresses = optional(list(string), [])
      gateway   = optional(string)
      dhcp      = optional(bool, false)
      mtu       = optional(number)
      vip       = optional(string)
    })), [])
  }))

  validation {
    condition     = length([for n in var.nodes : n if n.role == "controlplane"]) >= 1
    error_message = "nodes must contain at least one node with role controlplane."
  }

  validation {
    condition     = alltrue([for n in var.nodes : contains(["controlplane", "worker"], n.role)])
    error_message = "nodes[*].role must be controlplane or worker."
  }

  validation {
    condition     = length(distinct([for n in var.nodes : n.name])) == length(var.nodes)
    error_message = "nodes[*].name must be unique."
  }

  validation {
    condition     = length(distinct([for n in var.nodes : n.address])) == length(var.nodes)
    error_message = "nodes[*].address must be unique."
  }

  validation {
    condition     = alltrue([for n in var.nodes : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", n.name))])
    error_message = "nodes[*].name must be a DNS label (it becomes the hostname)."
  }

  validation {
    condition     = alltrue([for n in var.nodes : n.install_disk == null || startswith(coalesce(n.install_disk, "/"), "/dev/")])
    error_message = "nodes[*].install_disk must be a device path such as /dev/sda or /dev/nvme0n1."
  }
}

variable "tunnel" {
  description = "The Cloudflare Tunnel (homelab.yaml `tunnel`): name, account id, DNS zone and routes. Each route is public or protected by Cloudflare Access. null disables every Cloudflare resource."
  type = object({
    name       = string
    account_id = string
    zone       = string
    routes = list(object({
      hostname = string
      service  = string
      path     = optional(string)
      public   = optional(bool, false)
      # homelab.yaml originRequest, keys in the provider's snake_case; durations in seconds.
      origin_request = optional(object({
        ca_pool                  = optional(string)
        connect_timeout          = optional(number)
        disable_chunked_encoding = optional(bool)
        http2_origin             = optional(bool)
        http_host_header         = optional(string)
        keep_alive_connections   = optional(number)
        keep_alive_timeout       = optional(number)
        match_sn_ito_host        = optional(bool)
        no_happy_eyeballs        = optional(bool)
        no_tls_verify            = optional(bool)
        origin_server_name       = optional(string)
        proxy_type               = optional(string)
        tcp_keep_alive           = optional(number)
        tls_timeout              = optional(number)
        access = optional(object({
          aud_tag   = optional(list(string))
          required  = optional(bool)
          team_name = optional(string)
        }))
      }))
      access = optional(object({
        emails         = optional(list(string), [])
        email_domains  = optional(list(string), [])
        groups         = optional(list(string), [])
        service_tokens = optional(list(string), [])
      }))
    }))
  })
  default = null

  validation {
    condition     = var.tunnel == null || can(regex("^[0-9a-f]{32}$", var.tunnel.account_id))
    error_message = "tunnel.account_id must be a 32-character hex Cloudflare account id."
  }

  validation {
    condition     = var.tunnel == null || alltrue([for r in try(var.tunnel.routes, []) : r.hostname == var.tunnel.zone || endswith(r.hostname, ".${var.tunnel.zone}")])
    error_message = "tunnel.routes[*].hostname must be the zone or a name inside it."
  }

  validation {
    condition     = var.tunnel == null || length(distinct([for r in try(var.tunnel.routes, []) : "${r.hostname}${r.path == null ? "" : r.path}"])) == length(try(var.tunnel.routes, []))
    error_message = "tunnel.routes must not repeat a hostname + path pair."
  }

  validation {
    condition = var.tunnel == null || alltrue([
      for r in try(var.tunnel.routes, []) : r.public || (
        r.access != null && length(concat(
          try(r.access.emails, []), try(r.access.email_domains, []),
          try(r.access.groups, []), try(r.access.service_tokens, []),
        )) > 0
      )
    ])
    error_message = "Every tunnel route needs public = true or an access rule (emails, email_domains, groups or service_tokens)."
  }

  validation {
    condition     = var.tunnel == null || alltrue([for r in try(var.tunnel.routes, []) : can(regex("^(https?|tcp|ssh|rdp|unix|http_status):", r.service))])
    error_message = "tunnel.routes[*].service must be an origin URL such as http://app.apps.svc.cluster.local:80."
  }
}

variable "tailscale" {
  description = "Tailscale on every node (homelab.yaml `tailscale`): advertised routes, a machine-name prefix (<prefix>-<node>) and extra arguments. The auth key is the sensitive variable tailscale_auth_key. null disables it."
  type = object({
    routes     = optional(list(string), [])
    hostname   = optional(string)
    extra_args = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.tailscale == null || alltrue([for cidr in try(var.tailscale.routes, []) : can(cidrsubnet(cidr, 0, 0))])
    error_message = "tailscale.routes must be CIDR ranges, e.g. the service subnet 10.96.0.0/12."
  }
}

variable "argocd" {
  description = "Argo CD (homelab.yaml `argocd`): chart version and the Git repository of the root Application. Read by the CLI after `apply`; no resource here uses it."
  type = object({
    chart_version   = string
    repo_url        = string
    path            = string
    target_revision = optional(string, "HEAD")
    namespace       = optional(string, "argocd")
  })
  default = null

  validation {
    condition     = var.argocd == null || can(regex("^(https://|ssh://|git@)", var.argocd.repo_url))
    error_message = "argocd.repo_url must be an https://, ssh:// or git@ repository URL."
  }
}

# Secrets: set through the environment (the CLI resolves homelab.yaml references such as
# env:TS_AUTHKEY and passes TF_VAR_tailscale_auth_key to tofu). Never put them in a tfvars file.

variable "tailscale_auth_key" {
  description = "Tailscale auth key for the tailscale system extension (TF_VAR_tailscale_auth_key). Required when tailscale is set."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.tailscale_auth_key == null || can(regex("^tskey-", var.tailscale_auth_key))
    error_message = "tailscale_auth_key must be a Tailscale auth key (tskey-...)."
  }
}
