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
  description = "VPC of the broker."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the broker (a single-instance broker takes the first)."
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups that may connect (AMQPS 5671 and the management API on 443), by a name for the rule."
}

variable "deployment_mode" {
  type        = string
  description = "CLUSTER_MULTI_AZ (three nodes over three zones, production) or SINGLE_INSTANCE (dev)."
  validation {
    condition     = contains(["CLUSTER_MULTI_AZ", "SINGLE_INSTANCE"], var.deployment_mode)
    error_message = "CLUSTER_MULTI_AZ or SINGLE_INSTANCE."
  }
}

variable "instance_type" {
  type        = string
  description = "Broker instance type (mq.m5.large or larger for a cluster)."
}

variable "engine_version" {
  type        = string
  description = "RabbitMQ version on Amazon MQ (quorum queues need 3.13 or later)."
  default     = "3.13"
}

variable "username" {
  type        = string
  description = "The hub's broker user."
  default     = "loanhub"
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "KMS key of the URL secrets."
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted URL secret can still be restored."
  default     = 30
}
