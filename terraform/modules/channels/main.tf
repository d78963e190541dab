# The channels as the deployment sees them, from the reviewed policies in channels/policies/*.json:
# the scopes each channel's client needs (loans:read and payments:write always, payments:reverse where
# its policy allows reversals), its route's throttling (rateLimit.perClientPerMinute / 60 per second,
# twice that as burst) and its WAF limit per source IP (rateLimit.perIpPerMinute x 5 per 5 minutes).
# test/terraform holds these figures against the policy files, so a policy change that is not
# carried here fails the tests.

locals {
  policies = {
    app = {
      scopes               = ["loans:read", "payments:write", "payments:reverse"]
      rate_per_second      = 500
      burst                = 1000
      requests_per_ip_5min = 300000
      allowed_networks     = []
    }
    web = {
      scopes               = ["loans:read", "payments:write", "payments:reverse"]
      rate_per_second      = 500
      burst                = 1000
      requests_per_ip_5min = 300000
      allowed_networks     = []
    }
    agents = {
      scopes               = ["loans:read", "payments:write", "payments:reverse"]
      rate_per_second      = 200
      burst                = 400
      requests_per_ip_5min = 120000
      allowed_networks     = []
    }
    atm = {
      scopes               = ["loans:read", "payments:write", "payments:reverse"]
      rate_per_second      = 200
      burst                = 400
      requests_per_ip_5min = 120000
      allowed_networks     = []
    }
    stores = {
      scopes               = ["loans:read", "payments:write", "payments:reverse"]
      rate_per_second      = 200
      burst                = 400
      requests_per_ip_5min = 120000
      allowed_networks     = []
    }
  }

  channels = {
    for channel, p in local.policies : channel => merge(p, {
      allowed_networks = lookup(var.allowed_networks, channel, p.allowed_networks)
    })
  }
}
