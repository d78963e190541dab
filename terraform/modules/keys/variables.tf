variable "name" {
  type        = string
  description = "Prefix of every resource name, e.g. loanhub-prod."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "deletion_window_days" {
  type        = number
  description = "Days a scheduled key deletion waits (7..30)."
  default     = 30
}
