variable "name" {
  type        = string
  description = "Prefix of every resource name, e.g. loanhub-prod."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "cidr_block" {
  type        = string
  description = "The VPC's address range; must not overlap the mainframe's network or the bank's ranges behind the VPN."
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones to spread the subnets over (two at least)."
  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "Use two availability zones at least."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for every zone (dev, cheaper) instead of one per zone (prod, survives a zone)."
  default     = false
}

variable "interface_endpoint_services" {
  type        = list(string)
  description = "AWS services the tasks call through interface VPC endpoints (short names)."
  default     = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "sts"]
}

variable "logs_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key that encrypts the flow-log group."
}

variable "log_retention_days" {
  type        = number
  description = "Days the VPC flow logs are kept."
}
