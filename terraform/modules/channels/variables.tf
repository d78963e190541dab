variable "allowed_networks" {
  type        = map(list(string))
  description = "The deployment's real source networks (CIDRs) of the channels that may call only from their own (the agents' and stores' networks), by channel; the same lists go to the WAF's IP sets and to the hub's LOANHUB_CHANNEL_<CH>_ALLOWED_NETWORKS."
  default     = {}
  validation {
    condition     = alltrue([for nets in values(var.allowed_networks) : alltrue([for n in nets : can(cidrhost(n, 0))])])
    error_message = "Give networks as CIDRs (a single address as a.b.c.d/32)."
  }
}
