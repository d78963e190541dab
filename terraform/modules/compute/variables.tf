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
  description = "VPC of the tasks."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's range: the edge's internal load balancer forwards from it (LOANHUB_TRUST_PROXY)."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the tasks and of the batch file system."
}

variable "endpoints_security_group_id" {
  type        = string
  description = "Security group of the interface VPC endpoints (ECR, logs, Secrets Manager, KMS, STS)."
}

variable "s3_prefix_list_id" {
  type        = string
  description = "Prefix list of the S3 gateway endpoint (ECR image layers)."
}

variable "image" {
  type        = string
  description = "The hub image (the repository's Dockerfile), by digest: <account>.dkr.ecr.<region>.amazonaws.com/loanhub@sha256:..."
}

variable "key_writer_image" {
  type        = string
  description = "Small image with a POSIX shell that writes the SFTP key from its secret into the batch task's key volume."
  default     = "public.ecr.aws/docker/library/busybox:1.37"
}

variable "cloudwatch_agent_image" {
  type        = string
  description = "CloudWatch agent image that scrapes each task's /metrics into CloudWatch (Prometheus to EMF)."
  default     = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300049.1b929"
}

variable "hub_port" {
  type        = number
  description = "Port of loanhub serve."
  default     = 8080
}

variable "metrics_port" {
  type        = number
  description = "Port of /healthz, /readyz and /metrics of the workers and the batch scheduler."
  default     = 9101
}

variable "serve" {
  type = object({
    min_count = number
    max_count = number
    cpu       = number
    memory    = number
  })
  description = "loanhub serve: task count range (autoscaled on CPU), CPU units and MiB per task."
}

variable "work" {
  type = object({
    count  = number
    cpu    = number
    memory = number
  })
  description = "loanhub work --core X: tasks per core, CPU units and MiB per task."
}

variable "batch" {
  type = object({
    cpu    = number
    memory = number
  })
  description = "loanhub batch schedule (always exactly one task): CPU units and MiB."
}

variable "time_zone" {
  type        = string
  description = "The bank's IANA time zone (LOANHUB_TIME_ZONE)."
  default     = "America/Lima"
}

variable "log_level" {
  type        = string
  description = "LOANHUB_LOG_LEVEL of every process."
  default     = "info"
}

variable "issuer" {
  type        = string
  description = "LOANHUB_ISSUER: the Cognito user pool's issuer."
}

variable "jwks_url" {
  type        = string
  description = "LOANHUB_JWKS_URL: the Cognito user pool's JWKS."
}

variable "scope_prefix" {
  type        = string
  description = "LOANHUB_SCOPE_PREFIX: the resource server's identifier and a slash."
}

variable "channel_client_ids" {
  type        = map(string)
  description = "Cognito app client id of each channel (LOANHUB_CHANNEL_<CH>_CLIENT_IDS)."
}

variable "channel_allowed_networks" {
  type        = map(list(string))
  description = "Networks each channel may call from (LOANHUB_CHANNEL_<CH>_ALLOWED_NETWORKS when not empty), the same lists as the WAF's IP sets."
}

variable "channel_callback_urls" {
  type        = map(string)
  description = "Where each channel's confirmation webhooks go (LOANHUB_CHANNEL_<CH>_CALLBACK_URL); channels left out keep their policy's."
  default     = {}
}

variable "core_urls" {
  type        = map(string)
  description = "Base URL of each loan core, by core (cash, mortgage, vehicle): LOANHUB_CORE_<CORE>_URL."
}

variable "core_networks" {
  type        = list(string)
  description = "CIDRs of the loan cores; the workers may reach them on core_port only."
}

variable "core_port" {
  type        = number
  description = "Port of the loan cores' HTTPS APIs."
  default     = 443
}

variable "mortgage_user" {
  type        = string
  description = "Basic-auth user of the mortgage core (not secret; its password is)."
}

variable "mainframe" {
  type = object({
    sftp_url          = string
    host_fingerprint  = string
    codepage          = string
    cutoff            = string
    response_deadline = string
  })
  description = "The night batch: LOANHUB_MAINFRAME_SFTP_URL (sftp://user@host:port/base), the host key's SHA256 fingerprint, code page, cutoff and response deadline (HH:MM, bank time)."
}

variable "target_group_arn" {
  type        = string
  description = "Target group of the edge's internal load balancer (serve registers there)."
}

variable "database_security_group_id" {
  type        = string
  description = "Security group of the database (serve and batch reach it on 5432)."
}

variable "broker_security_group_id" {
  type        = string
  description = "Security group of the broker (serve and workers reach it on 5671)."
}

variable "secret_arns" {
  type = object({
    db_url                 = string
    amqp_url               = string
    core_cash_api_key      = string
    core_mortgage_password = string
    core_vehicle_token     = string
    mainframe_sftp_key     = string
    webhook_secrets        = map(string)
  })
  description = "Secrets Manager ARNs injected into the tasks; webhook_secrets by channel."
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "KMS key of those secrets (the execution roles decrypt with it)."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key of the tasks' log groups."
}

variable "log_retention_days" {
  type        = number
  description = "Days the tasks' logs are kept."
}

variable "metric_namespace" {
  type        = string
  description = "CloudWatch namespace of the hub's Prometheus metrics."
  default     = "LoanHub"
}
