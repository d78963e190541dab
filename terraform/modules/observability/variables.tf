variable "name" {
  type        = string
  description = "Prefix of every resource name, e.g. loanhub-prod."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses subscribed to the alarm topic (each confirms by mail); pagers subscribe to the topic's ARN."
  default     = []
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the alarm topic."
}

variable "api_name" {
  type        = string
  description = "REST API name of the edge (dimension ApiName)."
}

variable "api_stage" {
  type        = string
  description = "Stage of the edge (dimension Stage)."
}

variable "api_5xx_percent" {
  type        = number
  description = "Alarm when more than this percentage of the API's answers are 5xx over 5 minutes."
  default     = 1
}

variable "broker_name" {
  type        = string
  description = "Amazon MQ broker name (dimension Broker)."
}

variable "dead_letter_queues" {
  type        = list(string)
  description = "The hub's dead-letter queues (outbox/rabbitmq-topology.ts: <queue>.dlq)."
  default     = ["loanhub.core.cash.dlq", "loanhub.core.mortgage.dlq", "loanhub.core.vehicle.dlq", "loanhub.results.dlq"]
}

variable "metric_namespace" {
  type        = string
  description = "Namespace the tasks' CloudWatch agents write the hub's metrics to."
}

variable "outbox_lag_seconds" {
  type        = number
  description = "Alarm when the oldest unsent outbox row is older than this."
  default     = 60
}

variable "cores" {
  type        = list(string)
  description = "Loan cores whose circuit breaker, dead letters and work queues are watched."
  default     = ["cash", "mortgage", "vehicle"]
}

variable "channels" {
  type        = list(string)
  description = "Channels whose webhooks are watched (backlog age, endpoint disabled, deliveries given up)."
  default     = ["app", "web", "agents", "atm", "stores"]
}

variable "queue_ready_max" {
  type        = number
  description = "Alarm when more messages than this wait on a queue for 10 minutes."
  default     = 1000
}

variable "webhook_backlog_age_seconds" {
  type        = number
  description = "Alarm when a channel's oldest unfinished webhook is older than this."
  default     = 900
}
