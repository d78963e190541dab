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
  description = "VPC the VPN attaches to."
}

variable "private_route_table_ids" {
  type        = list(string)
  description = "Route tables that get a route to the mainframe's network."
}

variable "customer_gateway_ip" {
  type        = string
  description = "Public IP of the bank's VPN device in front of the mainframe."
}

variable "customer_gateway_bgp_asn" {
  type        = number
  description = "BGP ASN of the bank's VPN device (required by AWS even with static routes)."
  default     = 65000
}

variable "mainframe_cidr" {
  type        = string
  description = "The mainframe's network (routed over the VPN)."
}

variable "sftp_port" {
  type        = number
  description = "The mainframe's SFTP port."
  default     = 22
}

variable "batch_security_group_id" {
  type        = string
  description = "Security group of the batch task: the only one that may cross the link, on the SFTP port only."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key of the tunnel log group."
}

variable "log_retention_days" {
  type        = number
  description = "Days tunnel logs are kept."
}
