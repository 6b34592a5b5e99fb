# Input variables. Either copy terraform.tfvars.example to terraform.tfvars and edit it, or let
# `homelab render` write homelab.auto.tfvars.json from homelab.yaml with exactly the keys below
# (cluster, nodes, tunnel, tailscale): every resource is built from these variables alone.
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

  # Provider siderolabs/talos 0.11 generates configurations with machinery v1.13.0: the patches here
  # are the 1.12-1.14 documents (HostnameConfig, LinkConfig, ResolverConfig; v1.11 has none of them)
  # and the install settings are machine.install, which Talos 1.15 no longer reads.
  validation {
    condition     = can(regex("^v1\\.(1[2-4])\\.[0-9]+$", var.cluster.talos_version))
    error_message = "cluster.talos_version must look like v1.13.9: this folder supports v1.12 to v1.14 (provider siderolabs/talos 0.11 cannot write Talos 1.15's install settings; v1.11 lacks the network documents used here). Use `homelab up --engine direct` for other versions."
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
      name      = string
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
        # cloudflared checks the Access JWT at the connector: both the audience tags and the team
        # name are required by the provider when this object is set.
        access = optional(object({
          aud_tag   = list(string)
          team_name = string
          required  = optional(bool)
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

  # cloudflared (ingress/ingress.go validateIngress) accepts a URL with a scheme, a host and no path,
  # http_status:<100-999>, unix:/unix+tls: sockets, hello_world, socks-proxy and bastion.
  validation {
    condition = var.tunnel == null || alltrue([
      for r in try(var.tunnel.routes, []) : can(regex("^([a-z][a-z0-9+.-]*://[^/?#]+([?#].*)?|http_status:[1-9][0-9]{2}|unix(\\+tls)?:.+|hello_world|hello-world|socks-proxy|bastion)$", r.service))
    ])
    error_message = "tunnel.routes[*].service must be an origin URL with no path (http://app.apps.svc.cluster.local:80), http_status:404, a unix: socket, hello_world, socks-proxy or bastion: cloudflared refuses a path on the origin."
  }

  # cloudflared treats a rule's path as an unanchored regular expression, while Access matches the
  # application's host/path as a prefix: a protected route may only use a path both read the same way,
  # an anchored literal prefix such as ^/api(/|$) (the Access application then covers host/api).
  validation {
    condition = var.tunnel == null || alltrue([
      for r in try(var.tunnel.routes, []) : r.public || r.path == null || can(regex("^\\^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*\\(/\\|\\$\\)$", r.path))
    ])
    error_message = "A protected tunnel route's path must be an anchored prefix such as ^/api(/|$): cloudflared matches the path as an unanchored regex, so /api would also route /x/api past the Access application for host/api."
  }

  # cloudflared durations are whole seconds.
  validation {
    condition = var.tunnel == null || alltrue(flatten([
      for r in try(var.tunnel.routes, []) : [
        for d in r.origin_request == null ? [] : [r.origin_request.connect_timeout, r.origin_request.tls_timeout, r.origin_request.tcp_keep_alive, r.origin_request.keep_alive_timeout] :
        d == null ? true : (d >= 0 && floor(d) == d)
      ]
    ]))
    error_message = "tunnel.routes[*].origin_request durations (connect_timeout, tls_timeout, tcp_keep_alive, keep_alive_timeout) must be whole seconds."
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
