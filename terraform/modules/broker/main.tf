# Amazon MQ for RabbitMQ: a three-node cluster over three zones in production (FSBP MQ.6), private
# (no public endpoint), encrypted at rest with its own customer-managed key, general logs to
# CloudWatch, minor versions applied in the maintenance window (MQ.3). The hub's AMQPS URL and the
# management URL are Secrets Manager secrets the tasks and operators read.

resource "aws_kms_key" "broker" {
  description         = "${var.name}: Amazon MQ data at rest"
  enable_key_rotation = true
  tags                = var.tags
}

resource "aws_security_group" "broker" {
  name        = "${var.name}-broker"
  description = "Amazon MQ: AMQPS and management from the hub only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-broker" })
}

resource "aws_vpc_security_group_ingress_rule" "amqps" {
  for_each                     = var.client_security_group_ids
  security_group_id            = aws_security_group.broker.id
  description                  = "AMQPS from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 5671
  to_port                      = 5671
  referenced_security_group_id = each.value
}

# The management API (HTTPS): `loanhub queues` / `loanhub dlq` run as one-off tasks of these services.
resource "aws_vpc_security_group_ingress_rule" "management" {
  for_each                     = var.client_security_group_ids
  security_group_id            = aws_security_group.broker.id
  description                  = "RabbitMQ management API from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = each.value
}

# Passwords of Amazon MQ users: 12+ characters without commas, colons or equals signs; letters and
# digits only, so the URL needs no escaping.
resource "random_password" "hub" {
  length  = 32
  special = false
}

resource "aws_mq_broker" "this" {
  broker_name                = var.name
  engine_type                = "RabbitMQ"
  engine_version             = var.engine_version
  host_instance_type         = var.instance_type
  deployment_mode            = var.deployment_mode
  publicly_accessible        = false
  auto_minor_version_upgrade = true
  subnet_ids                 = var.deployment_mode == "SINGLE_INSTANCE" ? [var.private_subnet_ids[0]] : var.private_subnet_ids
  security_groups            = [aws_security_group.broker.id]

  encryption_options {
    use_aws_owned_key = false
    kms_key_id        = aws_kms_key.broker.arn
  }

  logs {
    general = true
  }

  maintenance_window_start_time {
    day_of_week = "SUNDAY"
    time_of_day = "08:00"
    time_zone   = "UTC"
  }

  user {
    username = var.username
    password = random_password.hub.result
  }

  # Amazon MQ cannot change a RabbitMQ user after creation: the password is rotated through the
  # management API and the two URL secrets (docs/deploy.md), and Terraform leaves both alone after.
  lifecycle {
    ignore_changes = [user]
  }

  tags = var.tags
}

locals {
  # endpoints[0] is amqps://b-....mq.<region>.amazonaws.com:5671 (the cluster's load balancer).
  amqp_endpoint = aws_mq_broker.this.instances[0].endpoints[0]
  amqp_url      = replace(local.amqp_endpoint, "amqps://", "amqps://${var.username}:${random_password.hub.result}@")
  console_url   = aws_mq_broker.this.instances[0].console_url
}

resource "aws_secretsmanager_secret" "amqp_url" {
  name                    = "${var.name}/amqp-url"
  description             = "LOANHUB_AMQP_URL"
  kms_key_id              = var.secrets_kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "amqp_url" {
  secret_id     = aws_secretsmanager_secret.amqp_url.id
  secret_string = local.amqp_url

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_secretsmanager_secret" "management_url" {
  name                    = "${var.name}/amqp-management-url"
  description             = "LOANHUB_AMQP_MANAGEMENT_URL (operators: loanhub queues, loanhub dlq)"
  kms_key_id              = var.secrets_kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "management_url" {
  secret_id     = aws_secretsmanager_secret.management_url.id
  secret_string = replace(local.console_url, "https://", "https://${var.username}:${random_password.hub.result}@")

  lifecycle {
    ignore_changes = [secret_string]
  }
}
