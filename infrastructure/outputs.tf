output "talosconfig" {
  description = "talosconfig for talosctl and `homelab talos`; the CLI writes it with mode 0600."
  value       = data.talos_client_configuration.this.talos_config
  sensitive   = true
}

output "kubeconfig" {
  description = "Admin kubeconfig of the cluster; the CLI writes it with mode 0600."
  value       = talos_cluster_kubeconfig.this.kubeconfig_raw
  sensitive   = true
}

output "tunnel_id" {
  description = "Id of the Cloudflare Tunnel, or null when no tunnel is configured."
  value       = try(cloudflare_zero_trust_tunnel_cloudflared.this[0].id, null)
}

output "tunnel_token" {
  description = "Connector token of the tunnel (also delivered to every node's cloudflared extension)."
  value       = try(data.cloudflare_zero_trust_tunnel_cloudflared_token.this[0].token, null)
  sensitive   = true
}

output "bootstrap_node" {
  description = "Address of the control plane that was bootstrapped."
  value       = local.bootstrap_node.address
}
