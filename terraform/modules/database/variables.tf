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
  description = "VPC of the database."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the database (two zones at least)."
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups that may connect on 5432, by a name for the rule."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major version on RDS."
  default     = "16"
}

variable "instance_class" {
  type        = string
  description = "RDS instance class."
}

variable "allocated_storage_gb" {
  type        = number
  description = "Initial storage, GiB (grows by itself up to max_allocated_storage_gb)."
}

variable "max_allocated_storage_gb" {
  type        = number
  description = "Storage autoscaling ceiling, GiB."
}

variable "multi_az" {
  type        = bool
  description = "A synchronous standby in another zone (production)."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance."
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups and point-in-time recovery (7 at least)."
  validation {
    condition     = var.backup_retention_days >= 7
    error_message = "Keep seven days of backups at least."
  }
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key of the database's log groups."
}

variable "log_retention_days" {
  type        = number
  description = "Days PostgreSQL logs are kept in CloudWatch."
}
