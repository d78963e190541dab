# The channel-facing edge: an API Gateway REST API (regional) under the bank's own domain, TLS 1.2 at
# least, one route per channel (/v1/{channel}/...) with its own throttling and a Cognito authorizer
# that asks for the channel's scopes, access logs, and an AWS WAFv2 web ACL (managed rule groups, a
# rate-based rule per channel, IP sets where a channel may call only from its own networks).
#
# Why API Gateway and not an ALB: per-route throttling and token checks at the edge come with it, WAF
# associates with a REST API stage, and nothing listens on the internet from inside the VPC: API
# Gateway reaches the serve tasks through a VPC link to an internal network load balancer, so no
# security group of the deployment is open to 0.0.0.0/0.

locals {
  # WAF rule priorities: managed groups first, then each channel's IP allow-list, then its rate limit.
  channel_index = { for i, channel in sort(keys(var.channels)) : channel => i }
  restricted    = { for channel, c in var.channels : channel => c if length(c.allowed_networks) > 0 }
  managed_rule_groups = {
    AWSManagedRulesAmazonIpReputationList = 1
    AWSManagedRulesCommonRuleSet          = 2
    AWSManagedRulesKnownBadInputsRuleSet  = 3
    AWSManagedRulesSQLiRuleSet            = 4
  }
}

# --- internal network load balancer in front of the serve tasks ---------------------------------

resource "aws_security_group" "nlb" {
  name        = "${var.name}-edge-nlb"
  description = "Internal NLB behind the API Gateway VPC link"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-edge-nlb" })
}

# Traffic from the VPC link arrives over PrivateLink, which this NLB does not filter
# (enforce_security_group_inbound_rules_on_private_link_traffic = off): the group needs no ingress rule.
resource "aws_vpc_security_group_egress_rule" "nlb_to_serve" {
  security_group_id            = aws_security_group.nlb.id
  description                  = "to loanhub serve"
  ip_protocol                  = "tcp"
  from_port                    = var.hub_port
  to_port                      = var.hub_port
  referenced_security_group_id = var.serve_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "serve_from_nlb" {
  security_group_id            = var.serve_security_group_id
  description                  = "from the edge's internal NLB"
  ip_protocol                  = "tcp"
  from_port                    = var.hub_port
  to_port                      = var.hub_port
  referenced_security_group_id = aws_security_group.nlb.id
}

resource "aws_lb" "internal" {
  name                             = "${var.name}-edge"
  internal                         = true
  load_balancer_type               = "network"
  subnets                          = var.private_subnet_ids
  security_groups                  = [aws_security_group.nlb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = true

  enforce_security_group_inbound_rules_on_private_link_traffic = "off"

  tags = var.tags
}

resource "aws_lb_target_group" "serve" {
  name                 = "${var.name}-serve"
  port                 = var.hub_port
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    protocol            = "HTTP"
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = var.tags
}

resource "aws_lb_listener" "serve" {
  load_balancer_arn = aws_lb.internal.arn
  port              = var.hub_port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.serve.arn
  }
}

resource "aws_api_gateway_vpc_link" "this" {
  name        = "${var.name}-serve"
  target_arns = [aws_lb.internal.arn]
  tags        = var.tags
}

# --- the REST API: /v1/{channel}/{proxy+} per channel ---------------------------------------------

resource "aws_api_gateway_rest_api" "this" {
  name                         = var.name
  description                  = "LoanHub channel API"
  disable_execute_api_endpoint = true

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags
}

resource "aws_api_gateway_authorizer" "cognito" {
  name            = "${var.name}-cognito"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = [var.user_pool_arn]
  identity_source = "method.request.header.Authorization"
}

resource "aws_api_gateway_resource" "v1" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "v1"
}

resource "aws_api_gateway_resource" "channel" {
  for_each    = var.channels
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.v1.id
  path_part   = each.key
}

resource "aws_api_gateway_resource" "channel_proxy" {
  for_each    = var.channels
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.channel[each.key].id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "channel" {
  for_each             = var.channels
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.channel_proxy[each.key].id
  http_method          = "ANY"
  authorization        = "COGNITO_USER_POOLS"
  authorizer_id        = aws_api_gateway_authorizer.cognito.id
  authorization_scopes = [for s in each.value.scopes : "${var.scope_prefix}${s}"]

  request_parameters = {
    "method.request.path.proxy" = true
  }
}

resource "aws_api_gateway_integration" "channel" {
  for_each                = var.channels
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.channel_proxy[each.key].id
  http_method             = aws_api_gateway_method.channel[each.key].http_method
  type                    = "HTTP_PROXY"
  integration_http_method = "ANY"
  connection_type         = "VPC_LINK"
  connection_id           = aws_api_gateway_vpc_link.this.id
  uri                     = "http://${aws_lb.internal.dns_name}:${var.hub_port}/v1/${each.key}/{proxy}"
  timeout_milliseconds    = 29000

  request_parameters = {
    "integration.request.path.proxy" = "method.request.path.proxy"
  }
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.channel,
      aws_api_gateway_resource.channel_proxy,
      aws_api_gateway_method.channel,
      aws_api_gateway_integration.channel,
      aws_api_gateway_authorizer.cognito,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/loanhub/${var.name}/api-access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "live" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = "live"
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      clientId       = "$context.authorizer.claims.client_id"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      path           = "$context.path"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latencyMs      = "$context.responseLatency"
      wafStatus      = "$context.waf.status"
      integration    = "$context.integration.status"
    })
  }

  tags       = var.tags
  depends_on = [aws_api_gateway_account.this]
}

# Execution logs at ERROR and metrics for every method; never data traces (they would log bodies and
# tokens).
resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.live.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled    = true
    logging_level      = "ERROR"
    data_trace_enabled = false
  }
}

# Each channel's route has its own throttling (requests per second and burst, the whole channel).
resource "aws_api_gateway_method_settings" "channel" {
  for_each    = var.channels
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.live.stage_name
  method_path = "${trimprefix(aws_api_gateway_resource.channel_proxy[each.key].path, "/")}/ANY"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    throttling_rate_limit  = each.value.rate_per_second
    throttling_burst_limit = each.value.burst
  }
}

resource "aws_api_gateway_domain_name" "this" {
  domain_name              = var.domain_name
  regional_certificate_arn = var.certificate_arn
  security_policy          = "TLS_1_2"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags
}

resource "aws_api_gateway_base_path_mapping" "this" {
  api_id      = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.live.stage_name
  domain_name = aws_api_gateway_domain_name.this.domain_name
}

# API Gateway writes its logs through one role per account and region.
data "aws_iam_policy_document" "apigw_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigw_logs" {
  count              = var.manage_account_logging_role ? 1 : 0
  name               = "${var.name}-apigateway-logs"
  assume_role_policy = data.aws_iam_policy_document.apigw_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "apigw_logs" {
  count      = var.manage_account_logging_role ? 1 : 0
  role       = aws_iam_role.apigw_logs[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_account_logging_role ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.apigw_logs[0].arn
}

# --- WAF ---------------------------------------------------------------------------------------------

resource "aws_wafv2_ip_set" "channel" {
  for_each           = local.restricted
  name               = "${var.name}-${each.key}-networks"
  description        = "The only networks the ${each.key} channel may call from"
  scope              = "REGIONAL"
  ip_address_version = "IPV4"
  addresses          = each.value.allowed_networks
  tags               = var.tags
}

resource "aws_wafv2_web_acl" "this" {
  name        = "${var.name}-edge"
  description = "LoanHub channel API"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = local.managed_rule_groups
    content {
      name     = rule.key
      priority = rule.value

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.key
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        sampled_requests_enabled   = true
        metric_name                = "${var.name}-${rule.key}"
      }
    }
  }

  # A channel whose policy names its networks: anything else calling its route is blocked.
  dynamic "rule" {
    for_each = local.restricted
    content {
      name     = "${rule.key}-allowed-networks"
      priority = 10 + local.channel_index[rule.key]

      action {
        block {}
      }

      statement {
        and_statement {
          statement {
            byte_match_statement {
              search_string         = "/v1/${rule.key}/"
              positional_constraint = "STARTS_WITH"
              field_to_match {
                uri_path {}
              }
              text_transformation {
                priority = 0
                type     = "NONE"
              }
            }
          }
          statement {
            not_statement {
              statement {
                ip_set_reference_statement {
                  arn = aws_wafv2_ip_set.channel[rule.key].arn
                }
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        sampled_requests_enabled   = true
        metric_name                = "${var.name}-${rule.key}-allowed-networks"
      }
    }
  }

  dynamic "rule" {
    for_each = var.channels
    content {
      name     = "${rule.key}-rate-per-ip"
      priority = 30 + local.channel_index[rule.key]

      action {
        block {}
      }

      statement {
        rate_based_statement {
          limit              = rule.value.requests_per_ip_5min
          aggregate_key_type = "IP"
          scope_down_statement {
            byte_match_statement {
              search_string         = "/v1/${rule.key}/"
              positional_constraint = "STARTS_WITH"
              field_to_match {
                uri_path {}
              }
              text_transformation {
                priority = 0
                type     = "NONE"
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        sampled_requests_enabled   = true
        metric_name                = "${var.name}-${rule.key}-rate-per-ip"
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    sampled_requests_enabled   = true
    metric_name                = "${var.name}-edge"
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "stage" {
  resource_arn = aws_api_gateway_stage.live.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

# WAF logging (WAF.11); the group's name must start with aws-waf-logs-. Authorization headers are
# redacted so no token lands in a log.
resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}
