output "channels" {
  description = "Per channel: scopes, rate_per_second, burst, requests_per_ip_5min, allowed_networks."
  value       = local.channels
}

output "names" {
  description = "The channel names."
  value       = sort(keys(local.channels))
}
