output "api_url" {
  description = "Base URL channels call (https://<domain>/v1/<channel>/...)."
  value       = "https://${aws_api_gateway_domain_name.this.domain_name}"
}

output "dns_target" {
  description = "Regional domain name and hosted zone id to alias the API's DNS name to."
  value = {
    name    = aws_api_gateway_domain_name.this.regional_domain_name
    zone_id = aws_api_gateway_domain_name.this.regional_zone_id
  }
}

output "target_group_arn" {
  description = "Target group the serve service registers its tasks in."
  value       = aws_lb_target_group.serve.arn
}

output "api_name" {
  description = "REST API name (CloudWatch dimension ApiName)."
  value       = aws_api_gateway_rest_api.this.name
}

output "stage_name" {
  description = "Stage name (CloudWatch dimension Stage)."
  value       = aws_api_gateway_stage.live.stage_name
}

output "web_acl_arn" {
  description = "The WAF web ACL."
  value       = aws_wafv2_web_acl.this.arn
}

output "routes" {
  description = "The route of each channel."
  value       = { for channel, r in aws_api_gateway_resource.channel_proxy : channel => r.path }
}
