variable "region" {
  type        = string
  description = "AWS region of the deployment."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name."
  default     = "loanhub-dev"
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's range (must not overlap the bank's networks behind the VPN)."
}

variable "availability_zones" {
  type        = list(string)
  description = "Two zones of the region at least."
}

variable "domain_name" {
  type        = string
  description = "Public name of the channel API."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate of domain_name."
}

variable "cognito_domain_prefix" {
  type        = string
  description = "Cognito hosted domain prefix (token endpoint host)."
}

variable "image" {
  type        = string
  description = "The hub image by digest (ECR)."
}

variable "core_urls" {
  type        = map(string)
  description = "Base URL of each loan core (cash, mortgage, vehicle)."
}

variable "core_networks" {
  type        = list(string)
  description = "CIDRs of the loan cores."
}

variable "mortgage_user" {
  type        = string
  description = "Basic-auth user of the mortgage core."
}

variable "mainframe" {
  type = object({
    customer_gateway_ip = string
    cidr                = string
    sftp_port           = number
    sftp_url            = string
    host_fingerprint    = string
  })
  description = "The mainframe: the bank's VPN device's public IP, the mainframe's network, its SFTP port, LOANHUB_MAINFRAME_SFTP_URL and the host key's SHA256 fingerprint."
}

variable "channel_allowed_networks" {
  type        = map(list(string))
  description = "Real source networks of the channels that may call only from their own (agents, stores), by channel."
  default     = {}
}

variable "channel_callback_urls" {
  type        = map(string)
  description = "Webhook receiver URL of each channel."
  default     = {}
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses that receive the alarms."
  default     = []
}
