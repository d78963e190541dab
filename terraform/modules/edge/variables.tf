variable "name" {
  type        = string
  description = "Prefix of every resource name, e.g. loanhub-prod."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "vpc_id" {
  type        = string
  description = "VPC of the internal network load balancer."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the internal network load balancer."
}

variable "channels" {
  type = map(object({
    scopes               = list(string)
    rate_per_second      = number
    burst                = number
    requests_per_ip_5min = number
    allowed_networks     = list(string)
  }))
  description = "Per channel: the scopes its route accepts, its route's throttling, its WAF rate limit per source IP (per 5 minutes) and, when not empty, the only networks (CIDRs) it may call from."
}

variable "domain_name" {
  type        = string
  description = "Public name of the API, e.g. api.loanhub.bank.example."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for domain_name, in this region."
}

variable "user_pool_arn" {
  type        = string
  description = "Cognito user pool whose access tokens the edge checks before the hub does."
}

variable "scope_prefix" {
  type        = string
  description = "Prefix Cognito puts before each scope (resource server identifier and a slash)."
}

variable "hub_port" {
  type        = number
  description = "Port of loanhub serve in its tasks."
  default     = 8080
}

variable "serve_security_group_id" {
  type        = string
  description = "Security group of the serve tasks (the load balancer may reach their port)."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key of the access-log and WAF-log groups."
}

variable "log_retention_days" {
  type        = number
  description = "Days access logs and WAF logs are kept."
}

variable "manage_account_logging_role" {
  type        = bool
  description = "Set API Gateway's account-wide CloudWatch role (once per account and region; false when another stack owns it)."
  default     = true
}
