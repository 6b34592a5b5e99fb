# Provider pins. Both providers ship schema changes in minor releases (Cloudflare v5 minors carry
# BREAKING sections), so each is pinned to one minor line; patch releases are accepted.
terraform {
  # OpenTofu >= 1.11 (or Terraform >= 1.11): optional() object attributes with defaults, and the
  # ephemeral/write-only features the Talos provider exposes.
  required_version = ">= 1.11.0"

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
