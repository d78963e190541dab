output "api_url" {
  description = "Base URL the channels call."
  value       = module.edge.api_url
}

output "api_dns_target" {
  description = "Where the API's DNS name must point (alias)."
  value       = module.edge.dns_target
}

output "token_endpoint" {
  description = "Cognito token endpoint of the channels' clients."
  value       = module.identity.token_endpoint
}

output "client_ids" {
  description = "Cognito app client of each channel."
  value       = module.identity.client_ids
}

output "client_secret_arns" {
  description = "Secret of each channel's client credentials (hand over by IAM grant)."
  value       = module.identity.client_secret_arns
}

output "database_address" {
  description = "Host of the database (for the LOANHUB_DB_URL secret)."
  value       = module.database.address
}

output "database_master_user_secret_arn" {
  description = "Secret of the database's master user, generated and rotated by RDS (for the DBA, who creates the hub's own role with it)."
  value       = module.database.master_user_secret_arn
}

output "vpn_tunnel_addresses" {
  description = "Tunnel addresses for the bank's VPN device."
  value       = module.mainframe_link.tunnel_addresses
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.observability.alarm_topic_arn
}
