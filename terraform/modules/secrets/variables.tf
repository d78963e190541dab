variable "name" {
  type        = string
  description = "Prefix of every resource name, e.g. loanhub-prod."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the secrets."
}

variable "channels" {
  type        = list(string)
  description = "Channels that receive signed webhooks (one signing-secret list each)."
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored (0 deletes at once; use 7..30 outside throwaway envs)."
  default     = 30
}
