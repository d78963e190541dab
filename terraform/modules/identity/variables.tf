variable "name" {
  type        = string
  description = "Prefix of every resource name, e.g. loanhub-prod."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "domain_prefix" {
  type        = string
  description = "Cognito hosted domain prefix; the token endpoint is https://<prefix>.auth.<region>.amazoncognito.com/oauth2/token."
}

variable "resource_server_identifier" {
  type        = string
  description = "Identifier of the hub's resource server; scopes in tokens read <identifier>/<scope>, so the hub's LOANHUB_SCOPE_PREFIX is <identifier>/."
  default     = "loanhub"
}

variable "scopes" {
  type        = map(string)
  description = "The hub's scopes and what each allows."
  default = {
    "payments:write"   = "take payments"
    "loans:read"       = "inquire loans and read payments"
    "payments:reverse" = "reverse payments the same day"
    "ops:read"         = "read operational state (queues, batch, reconciliation)"
  }
}

variable "channels" {
  type = map(object({
    scopes = list(string)
  }))
  description = "One machine client per channel with the scopes that channel needs (keys: channel names)."
}

variable "access_token_minutes" {
  type        = number
  description = "Lifetime of an access token, minutes (5..1440)."
  default     = 15
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the user pool (its clients' ids and secrets would be lost)."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the secrets that hand each channel its client credentials."
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted client-credentials secret can still be restored."
  default     = 30
}
