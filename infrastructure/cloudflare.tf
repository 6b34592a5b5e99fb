# Cloudflare: a remotely managed tunnel, its single ingress configuration (one rule per route,
# then the 404 catch-all), proxied CNAMEs to the tunnel, and Access for every non-public route.
# Everything here exists only when var.tunnel is set.

locals {
  tunnel_enabled = var.tunnel != null
  routes         = local.tunnel_enabled ? var.tunnel.routes : []

  # Route key: hostname, plus the path when there is one.
  routes_by_key = { for r in local.routes : (r.path == null ? r.hostname : "${r.hostname}${r.path}") => r }

  # cloudflared matches rules in order: rules with a path go before the bare-hostname rules so a
  # path-specific origin is not shadowed.
  ingress_rules = concat(
    [for r in local.routes : { hostname = r.hostname, path = r.path, service = r.service, origin_request = r.origin_request } if r.path != null],
    [for r in local.routes : { hostname = r.hostname, path = null, service = r.service, origin_request = r.origin_request } if r.path == null],
    [{ hostname = null, path = null, service = "http_status:404", origin_request = null }],
  )

  hostnames = toset([for r in local.routes : r.hostname])

  # Ownership marker on every record this folder manages: the same fixed comment the direct
  # engine (cf-tunnel's DNS_COMMENT_MARKER) writes and looks for, so a CNAME to this tunnel is
  # recognised as ours by either engine. Short and fixed (Free zones allow 100 characters).
  dns_comment = local.tunnel_enabled ? "managed by cf-tunnel" : null

  protected_routes = { for key, r in local.routes_by_key : key => r if !r.public }

  # The Access application's host/path: a protected path is an anchored prefix ^/api(/|$) (see the
  # validation in variables.tf), which Access covers as host/api.
  access_domains = {
    for key, r in local.protected_routes : key => r.path == null ? r.hostname : "${r.hostname}${regex("^\\^(/[^(]+)", r.path)[0]}"
  }

  identity_routes = {
    for key, r in local.protected_routes : key => r
    if length(concat(r.access.emails, r.access.email_domains, r.access.groups)) > 0
  }
  service_token_routes = {
    for key, r in local.protected_routes : key => r if length(r.access.service_tokens) > 0
  }
}

data "cloudflare_zone" "this" {
  count = local.tunnel_enabled ? 1 : 0

  filter = {
    name = var.tunnel.zone
  }
}

resource "cloudflare_zero_trust_tunnel_cloudflared" "this" {
  count = local.tunnel_enabled ? 1 : 0

  account_id = var.tunnel.account_id
  name       = var.tunnel.name
  config_src = "cloudflare"
}

# Exactly one config resource per tunnel: two would overwrite each other's ingress list.
resource "cloudflare_zero_trust_tunnel_cloudflared_config" "this" {
  count = local.tunnel_enabled ? 1 : 0

  account_id = var.tunnel.account_id
  tunnel_id  = cloudflare_zero_trust_tunnel_cloudflared.this[0].id

  config = {
    ingress = local.ingress_rules
  }
}

# The connector token for the cloudflared system extension (see local.cloudflared_patch in
# talos.tf). Reading it needs an API token with Tunnel Edit, not Read.
data "cloudflare_zero_trust_tunnel_cloudflared_token" "this" {
  count = local.tunnel_enabled ? 1 : 0

  account_id = var.tunnel.account_id
  tunnel_id  = cloudflare_zero_trust_tunnel_cloudflared.this[0].id
}

resource "cloudflare_dns_record" "route" {
  for_each = local.hostnames

  zone_id = data.cloudflare_zone.this[0].zone_id
  name    = each.value
  type    = "CNAME"
  content = "${cloudflare_zero_trust_tunnel_cloudflared.this[0].id}.cfargotunnel.com"
  proxied = true
  ttl     = 1 # automatic; proxied records require it
  comment = local.dns_comment

  # Point DNS at the tunnel only once it has ingress rules (otherwise cloudflared answers 503) and
  # once every Access application exists: a failed Access write leaves no public CNAME behind, and
  # on destroy the records go before the applications (fail closed both ways).
  depends_on = [
    cloudflare_zero_trust_tunnel_cloudflared_config.this,
    cloudflare_zero_trust_access_application.route,
  ]
}

resource "cloudflare_zero_trust_access_policy" "allow" {
  for_each = local.identity_routes

  account_id = var.tunnel.account_id
  name       = "${var.tunnel.name} ${each.key} allow"
  decision   = "allow"
  include = concat(
    [for e in each.value.access.emails : { email = { email = e } }],
    [for d in each.value.access.email_domains : { email_domain = { domain = d } }],
    [for g in each.value.access.groups : { group = { id = g } }],
  )
  session_duration = "24h"
}

resource "cloudflare_zero_trust_access_policy" "service_token" {
  for_each = local.service_token_routes

  account_id = var.tunnel.account_id
  name       = "${var.tunnel.name} ${each.key} service tokens"
  decision   = "non_identity"
  include    = [for t in each.value.access.service_tokens : { service_token = { token_id = t } }]
}

resource "cloudflare_zero_trust_access_application" "route" {
  for_each = local.protected_routes

  account_id       = var.tunnel.account_id
  name             = "${var.tunnel.name} ${each.key}"
  domain           = local.access_domains[each.key]
  type             = "self_hosted"
  session_duration = "24h"

  # Precedence starts at 1: 0 produces a permanent diff.
  policies = [
    for i, id in compact([
      try(cloudflare_zero_trust_access_policy.service_token[each.key].id, ""),
      try(cloudflare_zero_trust_access_policy.allow[each.key].id, ""),
    ]) : { id = id, precedence = i + 1 }
  ]
}
