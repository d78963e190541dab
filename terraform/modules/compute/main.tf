# The hub's processes on ECS Fargate: `loanhub serve` (API, outbox relay, core results, webhooks;
# several tasks behind the edge, autoscaled), one `loanhub work --core X` service per loan core, and
# `loanhub batch schedule` (exactly one task; the store's lease makes a second one harmless anyway).
# Each service has its own task role and execution role (only its own secrets), its own security group
# (egress only where it must go), logs in CloudWatch with retention and KMS, read-only root file
# systems, every capability dropped, secrets from Secrets Manager and never in plain environment values.

data "aws_region" "current" {}

locals {
  cores = ["cash", "mortgage", "vehicle"]
  # Writable places of a read-only container: the data dir and /tmp, on the task's ephemeral storage
  # (the batch scheduler's data dir is on EFS: it archives every file sent and received).
  data_dir = "/var/lib/loanhub"
  key_dir  = "/run/loanhub/sftp"

  common_environment = {
    LOANHUB_HOST      = "0.0.0.0"
    LOANHUB_DATA_DIR  = local.data_dir
    LOANHUB_TIME_ZONE = var.time_zone
    LOANHUB_LOG_LEVEL = var.log_level
  }

  # Every variable a hub container gets, by service. Names only from the code's settings catalogue
  # (config/settings-catalogue.ts); test/terraform checks it.
  environment = {
    serve = merge(
      local.common_environment,
      {
        LOANHUB_ISSUER         = var.issuer
        LOANHUB_JWKS_URL       = var.jwks_url
        LOANHUB_SCOPE_PREFIX   = var.scope_prefix
        LOANHUB_TRUST_PROXY    = var.vpc_cidr
        LOANHUB_BATCH_SCHEDULE = "off"
      },
      { for channel, id in var.channel_client_ids : "LOANHUB_CHANNEL_${upper(channel)}_CLIENT_IDS" => id },
      { for channel, nets in var.channel_allowed_networks : "LOANHUB_CHANNEL_${upper(channel)}_ALLOWED_NETWORKS" => join(",", nets) if length(nets) > 0 },
      { for channel, url in var.channel_callback_urls : "LOANHUB_CHANNEL_${upper(channel)}_CALLBACK_URL" => url },
    )
    work = {
      for core in local.cores : core => merge(
        local.common_environment,
        { "LOANHUB_CORE_${upper(core)}_URL" = var.core_urls[core] },
        core == "mortgage" ? { LOANHUB_CORE_MORTGAGE_USER = var.mortgage_user } : {},
      )
    }
    batch = merge(
      local.common_environment,
      {
        LOANHUB_MAINFRAME_SFTP_URL              = var.mainframe.sftp_url
        LOANHUB_MAINFRAME_SFTP_KEY_FILE         = "${local.key_dir}/id_key"
        LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT = var.mainframe.host_fingerprint
        LOANHUB_MAINFRAME_CODEPAGE              = var.mainframe.codepage
        LOANHUB_BATCH_CUTOFF                    = var.mainframe.cutoff
        LOANHUB_BATCH_RESPONSE_DEADLINE         = var.mainframe.response_deadline
        LOANHUB_BATCH_SCHEDULE                  = "on"
      },
    )
  }

  secrets = {
    serve = merge(
      {
        LOANHUB_DB_URL   = var.secret_arns.db_url
        LOANHUB_AMQP_URL = var.secret_arns.amqp_url
      },
      { for channel, arn in var.secret_arns.webhook_secrets : "LOANHUB_WEBHOOK_SECRETS_${upper(channel)}" => arn },
    )
    work = {
      cash     = { LOANHUB_AMQP_URL = var.secret_arns.amqp_url, LOANHUB_CORE_CASH_API_KEY = var.secret_arns.core_cash_api_key }
      mortgage = { LOANHUB_AMQP_URL = var.secret_arns.amqp_url, LOANHUB_CORE_MORTGAGE_PASSWORD = var.secret_arns.core_mortgage_password }
      vehicle  = { LOANHUB_AMQP_URL = var.secret_arns.amqp_url, LOANHUB_CORE_VEHICLE_TOKEN = var.secret_arns.core_vehicle_token }
    }
    batch = {
      LOANHUB_DB_URL = var.secret_arns.db_url
    }
  }

  services = merge(
    { serve = { command = ["serve", "--port", tostring(var.hub_port)], port = var.hub_port, cpu = var.serve.cpu, memory = var.serve.memory } },
    { for core in local.cores : "work-${core}" => { command = ["work", "--core", core, "--port", tostring(var.metrics_port)], port = var.metrics_port, cpu = var.work.cpu, memory = var.work.memory } },
    # `loanhub batch schedule --port` serves /healthz, /readyz and /metrics (its container health check and
    # the metrics agent's scrape, as for the workers); /readyz does not depend on the mainframe.
    { batch = { command = ["batch", "schedule", "--port", tostring(var.metrics_port)], port = var.metrics_port, cpu = var.batch.cpu, memory = var.batch.memory } },
  )
  environment_of = merge(
    { serve = local.environment.serve, batch = local.environment.batch },
    { for core in local.cores : "work-${core}" => local.environment.work[core] },
  )
  secrets_of = merge(
    { serve = local.secrets.serve, batch = local.secrets.batch },
    { for core in local.cores : "work-${core}" => local.secrets.work[core] },
  )

  log_options = {
    for service in keys(local.services) : service => {
      awslogs-group         = aws_cloudwatch_log_group.service[service].name
      awslogs-region        = data.aws_region.current.name
      awslogs-stream-prefix = service
      mode                  = "non-blocking"
      max-buffer-size       = "4m"
    }
  }

  # The hub's own container in each task; a process with an HTTP port gets its health check on it.
  hub_container = {
    for service, s in local.services : service => merge({
      name                   = "loanhub"
      image                  = var.image
      essential              = true
      command                = s.command
      user                   = "1000:1000"
      readonlyRootFilesystem = true
      privileged             = false
      stopTimeout            = 60
      environment            = [for k in sort(keys(local.environment_of[service])) : { name = k, value = local.environment_of[service][k] }]
      secrets                = [for k in sort(keys(local.secrets_of[service])) : { name = k, valueFrom = local.secrets_of[service][k] }]
      mountPoints = concat(
        [
          { sourceVolume = "data", containerPath = local.data_dir, readOnly = false },
          { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
        ],
        service == "batch" ? [{ sourceVolume = "sftp-key", containerPath = local.key_dir, readOnly = true }] : [],
      )
      dependsOn        = service == "batch" ? [{ containerName = "sftp-key-writer", condition = "SUCCESS" }] : []
      linuxParameters  = { initProcessEnabled = true, capabilities = { drop = ["ALL"] } }
      ulimits          = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
      logConfiguration = { logDriver = "awslogs", options = local.log_options[service] }
      }, [for p in [s.port] : {
        portMappings = [{ containerPort = p, protocol = "tcp" }]
        healthCheck = {
          command     = ["CMD", "node", "-e", "fetch('http://127.0.0.1:${p}/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
          interval    = 15
          timeout     = 5
          retries     = 3
          startPeriod = 30
        }
    } if p != null]...)
  }

  # Sidecar of each process with an HTTP port: the CloudWatch agent scrapes its /metrics and sends the
  # alarmed metrics as EMF.
  agent_container = {
    for service, s in local.services : service => {
      name                   = "cloudwatch-agent"
      image                  = var.cloudwatch_agent_image
      essential              = false
      readonlyRootFilesystem = false
      privileged             = false
      linuxParameters        = { capabilities = { drop = ["ALL"] } }
      environment = [
        {
          name = "PROMETHEUS_CONFIG_CONTENT"
          value = yamlencode({
            global = { scrape_interval = "30s", scrape_timeout = "10s" }
            scrape_configs = [{
              job_name       = "loanhub-${service}"
              static_configs = [{ targets = ["127.0.0.1:${s.port}"] }]
            }]
          })
        },
        {
          name = "CW_CONFIG_CONTENT"
          value = jsonencode({
            logs = {
              force_flush_interval = 15
              metrics_collected = {
                prometheus = {
                  log_group_name         = aws_cloudwatch_log_group.metrics.name
                  prometheus_config_path = "env:PROMETHEUS_CONFIG_CONTENT"
                  emf_processor = {
                    metric_namespace = var.metric_namespace
                    metric_declaration = [
                      { source_labels = ["job"], label_matcher = "^loanhub-", dimensions = [["job"]], metric_selectors = ["^loanhub_outbox_lag_seconds$", "^loanhub_batch_files_overdue$", "^loanhub_reconciliation_breaks_open$", "^loanhub_queue_stats_up$", "^loanhub_webhook_store_up$"] },
                      { source_labels = ["job"], label_matcher = "^loanhub-work-", dimensions = [["core"]], metric_selectors = ["^loanhub_core_breaker_state$", "^loanhub_commands_dead_lettered_total$"] },
                      { source_labels = ["job"], label_matcher = "^loanhub-", dimensions = [["core"]], metric_selectors = ["^loanhub_queue_consumers$"] },
                      { source_labels = ["job"], label_matcher = "^loanhub-", dimensions = [["core", "state"]], metric_selectors = ["^loanhub_queue_messages$"] },
                      { source_labels = ["job"], label_matcher = "^loanhub-serve$", dimensions = [["channel"]], metric_selectors = ["^loanhub_webhook_backlog_oldest_age_seconds$", "^loanhub_webhook_endpoint_disabled$"] },
                      { source_labels = ["job"], label_matcher = "^loanhub-serve$", dimensions = [["channel", "outcome"]], metric_selectors = ["^loanhub_webhook_deliveries_total$"] },
                    ]
                  }
                }
              }
            }
          })
        },
      ]
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options[service], { awslogs-stream-prefix = "${service}-agent" }) }
    } if s.port != null
  }

  # Init container of the batch task: Fargate injects secrets as variables, the SFTP client wants a
  # key file; this writes the one into the other (0400, owned by the hub's user) on a task volume that
  # the hub mounts read-only, and exits.
  key_writer_container = {
    name                   = "sftp-key-writer"
    image                  = var.key_writer_image
    essential              = false
    readonlyRootFilesystem = true
    privileged             = false
    command                = ["sh", "-c", "umask 077 && printf '%s\\n' \"$SFTP_PRIVATE_KEY\" > ${local.key_dir}/id_key && chown 1000:1000 ${local.key_dir}/id_key && chmod 0400 ${local.key_dir}/id_key"]
    secrets                = [{ name = "SFTP_PRIVATE_KEY", valueFrom = var.secret_arns.mainframe_sftp_key }]
    mountPoints            = [{ sourceVolume = "sftp-key", containerPath = local.key_dir, readOnly = false }]
    linuxParameters        = { capabilities = { drop = ["ALL"], add = ["CHOWN", "FOWNER", "DAC_OVERRIDE"] } }
    logConfiguration       = { logDriver = "awslogs", options = merge(local.log_options["batch"], { awslogs-stream-prefix = "batch-key-writer" }) }
  }

  containers = {
    for service in keys(local.services) : service => concat(
      [local.hub_container[service]],
      [for agent in [lookup(local.agent_container, service, null)] : agent if agent != null],
      service == "batch" ? [local.key_writer_container] : [],
    )
  }

  secret_arns_of = {
    for service in keys(local.services) : service => concat(
      values(local.secrets_of[service]),
      service == "batch" ? [var.secret_arns.mainframe_sftp_key] : [],
    )
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "service" {
  for_each          = local.services
  name              = "/loanhub/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "metrics" {
  name              = "/loanhub/${var.name}/prometheus"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

# --- IAM: one execution role and one task role per service --------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  for_each           = local.services
  name               = "${var.name}-${each.key}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution_ecr_logs" {
  for_each   = local.services
  role       = aws_iam_role.execution[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  for_each = local.services
  statement {
    sid       = "OwnSecretsOnly"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.secret_arns_of[each.key]
  }
  statement {
    sid       = "DecryptThem"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  for_each = local.services
  name     = "read-own-secrets"
  role     = aws_iam_role.execution[each.key].id
  policy   = data.aws_iam_policy_document.execution_secrets[each.key].json
}

resource "aws_iam_role" "task" {
  for_each           = local.services
  name               = "${var.name}-${each.key}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

# The hub calls no AWS API; a task role may only do what its sidecars need: the agent writes the
# metrics log group, the batch task mounts its file system.
data "aws_iam_policy_document" "task" {
  for_each = local.services
  statement {
    sid       = "AgentWritesMetrics"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.metrics.arn}:*"]
  }
  dynamic "statement" {
    for_each = each.key == "batch" ? [1] : []
    content {
      sid       = "BatchMountsItsArchive"
      actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
      resources = [aws_efs_file_system.batch.arn]
      condition {
        test     = "StringEquals"
        variable = "elasticfilesystem:AccessPointArn"
        values   = [aws_efs_access_point.batch.arn]
      }
    }
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.services
  name     = "least-privilege"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.task[each.key].json
}

# --- security groups: egress only where each process must go -------------------------------------

resource "aws_security_group" "service" {
  for_each    = local.services
  name        = "${var.name}-${each.key}"
  description = "loanhub ${each.key} tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_vpc_security_group_egress_rule" "to_endpoints" {
  for_each                     = local.services
  security_group_id            = aws_security_group.service[each.key].id
  description                  = "ECR, logs, Secrets Manager, KMS, STS endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = var.endpoints_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "to_s3" {
  for_each          = local.services
  security_group_id = aws_security_group.service[each.key].id
  description       = "ECR image layers through the S3 gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.s3_prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "to_database" {
  for_each                     = toset(["serve", "batch"])
  security_group_id            = aws_security_group.service[each.key].id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.database_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "to_broker" {
  for_each                     = toset(concat(["serve"], [for core in local.cores : "work-${core}"]))
  security_group_id            = aws_security_group.service[each.key].id
  description                  = "Amazon MQ (AMQP over TLS)"
  ip_protocol                  = "tcp"
  from_port                    = 5671
  to_port                      = 5671
  referenced_security_group_id = var.broker_security_group_id
}

# Confirmation webhooks go to the channels' own HTTPS endpoints on the internet (through NAT), and
# the Cognito JWKS is fetched from there too.
resource "aws_vpc_security_group_egress_rule" "serve_https_out" {
  security_group_id = aws_security_group.service["serve"].id
  description       = "HTTPS to channel webhook receivers and Cognito"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "work_to_cores" {
  for_each = {
    for pair in setproduct([for core in local.cores : "work-${core}"], var.core_networks) : "${pair[0]}|${pair[1]}" => { service = pair[0], cidr = pair[1] }
  }
  security_group_id = aws_security_group.service[each.value.service].id
  description       = "the loan cores' APIs"
  ip_protocol       = "tcp"
  from_port         = var.core_port
  to_port           = var.core_port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "batch_to_efs" {
  security_group_id            = aws_security_group.service["batch"].id
  description                  = "the batch archive (EFS)"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.efs.id
}

# --- the batch scheduler's archive: EFS, encrypted, backed up, reached through one access point ---

resource "aws_efs_file_system" "batch" {
  encrypted        = true
  kms_key_id       = var.secrets_kms_key_arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"
  tags             = merge(var.tags, { Name = "${var.name}-batch-archive" })
}

resource "aws_efs_backup_policy" "batch" {
  file_system_id = aws_efs_file_system.batch.id
  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_efs_access_point" "batch" {
  file_system_id = aws_efs_file_system.batch.id
  posix_user {
    uid = 1000
    gid = 1000
  }
  root_directory {
    path = "/loanhub"
    creation_info {
      owner_uid   = 1000
      owner_gid   = 1000
      permissions = "0750"
    }
  }
  tags = var.tags
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-batch-efs"
  description = "Batch archive file system: NFS from the batch task only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-batch-efs" })
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_batch" {
  security_group_id            = aws_security_group.efs.id
  description                  = "NFS from the batch task"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.service["batch"].id
}

resource "aws_efs_mount_target" "batch" {
  for_each        = toset(var.private_subnet_ids)
  file_system_id  = aws_efs_file_system.batch.id
  subnet_id       = each.value
  security_groups = [aws_security_group.efs.id]
}

# --- task definitions and services ----------------------------------------------------------------

resource "aws_ecs_task_definition" "service" {
  for_each                 = local.services
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution[each.key].arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  container_definitions    = jsonencode(local.containers[each.key])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  dynamic "volume" {
    for_each = each.key == "batch" ? [] : ["data"]
    content {
      name = "data"
    }
  }

  dynamic "volume" {
    for_each = each.key == "batch" ? ["data"] : []
    content {
      name = "data"
      efs_volume_configuration {
        file_system_id     = aws_efs_file_system.batch.id
        transit_encryption = "ENABLED"
        authorization_config {
          access_point_id = aws_efs_access_point.batch.id
          iam             = "ENABLED"
        }
      }
    }
  }

  volume {
    name = "tmp"
  }

  dynamic "volume" {
    for_each = each.key == "batch" ? ["sftp-key"] : []
    content {
      name = "sftp-key"
    }
  }

  tags = var.tags
}

# serve: behind the edge's load balancer, its count owned by the autoscaler once it runs.
resource "aws_ecs_service" "serve" {
  name                               = "serve"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.service["serve"].arn
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  desired_count                      = var.serve.min_count
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.service["serve"].id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "loanhub"
    container_port   = var.hub_port
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  tags = var.tags
}

# The workers (a service per core) and the batch scheduler.
resource "aws_ecs_service" "background" {
  for_each               = { for k, v in local.services : k => v if k != "serve" }
  name                   = each.key
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.service[each.key].arn
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  desired_count          = each.key == "batch" ? 1 : var.work.count
  enable_execute_command = false
  propagate_tags         = "SERVICE"

  # The scheduler is never two tasks, even during a deployment: stop the old one, then start the new.
  deployment_minimum_healthy_percent = each.key == "batch" ? 0 : 100
  deployment_maximum_percent         = each.key == "batch" ? 100 : 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.service[each.key].id]
    assign_public_ip = false
  }

  tags = var.tags
}

resource "aws_appautoscaling_target" "serve" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.serve.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.serve.min_count
  max_capacity       = var.serve.max_count
}

resource "aws_appautoscaling_policy" "serve_cpu" {
  name               = "${var.name}-serve-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.serve.service_namespace
  resource_id        = aws_appautoscaling_target.serve.resource_id
  scalable_dimension = aws_appautoscaling_target.serve.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 60
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
