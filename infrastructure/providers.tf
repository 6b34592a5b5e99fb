# Provider pins. Both providers ship schema changes in minor releases (Cloudflare v5 minors carry
# BREAKING sections), so each is pinned to one minor line; patch releases are accepted.
terraform {
  # optional() object attributes with defaults need Terraform >= 1.3; OpenTofu's first release is
  # 1.6. Nothing here uses ephemeral resources or write-only attributes (those need 1.11).
  required_version = ">= 1.6.0"

  required_providers {
    talos = {
      source  = "siderolabs/talos"
      version = "~> 0.11.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.22.0"
    }
  }
}

provider "talos" {}

# Credentials come from the environment: CLOUDFLARE_API_TOKEN (needs Tunnel Edit, DNS Edit and
# Access Apps and Policies Edit on the account/zone). Nothing secret is written in this folder.
provider "cloudflare" {}
