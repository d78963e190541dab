# Development: the same shape at a smaller size and cost: one NAT gateway, single-AZ PostgreSQL
# without deletion protection and 7 days of backups, a single-instance broker, two serve tasks and one
# worker per core. Each departure from a security control is listed in terraform/README.md.

locals {
  tags = {
    Application = "loanhub"
    Environment = "dev"
    ManagedBy   = "terraform"
  }
  log_retention_days = 90
}

module "channels" {
  source           = "../../modules/channels"
  allowed_networks = var.channel_allowed_networks
}

module "keys" {
  source = "../../modules/keys"
  name   = var.name
  tags   = local.tags
}

module "network" {
  source             = "../../modules/network"
  name               = var.name
  tags               = local.tags
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = true
  logs_kms_key_arn   = module.keys.logs_key_arn
  log_retention_days = local.log_retention_days
}

module "secrets" {
  source      = "../../modules/secrets"
  name        = var.name
  tags        = local.tags
  kms_key_arn = module.keys.secrets_key_arn
  channels    = module.channels.names
}

module "identity" {
  source              = "../../modules/identity"
  name                = var.name
  tags                = local.tags
  domain_prefix       = var.cognito_domain_prefix
  channels            = { for channel, c in module.channels.channels : channel => { scopes = c.scopes } }
  deletion_protection = false
  kms_key_arn         = module.keys.secrets_key_arn
}

module "edge" {
  source                  = "../../modules/edge"
  name                    = var.name
  tags                    = local.tags
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  channels                = module.channels.channels
  domain_name             = var.domain_name
  certificate_arn         = var.certificate_arn
  user_pool_arn           = module.identity.user_pool_arn
  scope_prefix            = module.identity.scope_prefix
  serve_security_group_id = module.compute.serve_security_group_id
  logs_kms_key_arn        = module.keys.logs_key_arn
  log_retention_days      = local.log_retention_days
}

module "database" {
  source                    = "../../modules/database"
  name                      = var.name
  tags                      = local.tags
  vpc_id                    = module.network.vpc_id
  private_subnet_ids        = module.network.private_subnet_ids
  client_security_group_ids = { serve = module.compute.security_group_ids["serve"], batch = module.compute.security_group_ids["batch"] }
  instance_class            = "db.t4g.medium"
  allocated_storage_gb      = 20
  max_allocated_storage_gb  = 100
  multi_az                  = false
  deletion_protection       = false
  backup_retention_days     = 7
  logs_kms_key_arn          = module.keys.logs_key_arn
  log_retention_days        = local.log_retention_days
}

module "broker" {
  source             = "../../modules/broker"
  name               = var.name
  tags               = local.tags
  vpc_id             = module.network.vpc_id
  private_subnet_ids = module.network.private_subnet_ids
  client_security_group_ids = {
    serve         = module.compute.security_group_ids["serve"]
    work-cash     = module.compute.security_group_ids["work-cash"]
    work-mortgage = module.compute.security_group_ids["work-mortgage"]
    work-vehicle  = module.compute.security_group_ids["work-vehicle"]
  }
  deployment_mode     = "SINGLE_INSTANCE"
  instance_type       = "mq.t3.micro"
  secrets_kms_key_arn = module.keys.secrets_key_arn
}

module "compute" {
  source                      = "../../modules/compute"
  name                        = var.name
  tags                        = local.tags
  vpc_id                      = module.network.vpc_id
  vpc_cidr                    = module.network.vpc_cidr
  private_subnet_ids          = module.network.private_subnet_ids
  endpoints_security_group_id = module.network.endpoints_security_group_id
  s3_prefix_list_id           = module.network.s3_prefix_list_id
  image                       = var.image
  serve                       = { min_count = 2, max_count = 4, cpu = 512, memory = 1024 }
  work                        = { count = 1, cpu = 256, memory = 512 }
  batch                       = { cpu = 512, memory = 1024 }
  issuer                      = module.identity.issuer
  jwks_url                    = module.identity.jwks_url
  scope_prefix                = module.identity.scope_prefix
  channel_client_ids          = module.identity.client_ids
  channel_allowed_networks    = { for channel, c in module.channels.channels : channel => c.allowed_networks }
  channel_callback_urls       = var.channel_callback_urls
  core_urls                   = var.core_urls
  core_networks               = var.core_networks
  mortgage_user               = var.mortgage_user
  mainframe = {
    sftp_url          = var.mainframe.sftp_url
    host_fingerprint  = var.mainframe.host_fingerprint
    codepage          = "cp037"
    cutoff            = "23:30"
    response_deadline = "06:00"
  }
  target_group_arn           = module.edge.target_group_arn
  database_security_group_id = module.database.security_group_id
  broker_security_group_id   = module.broker.security_group_id
  secret_arns = {
    db_url                 = module.secrets.db_url_arn
    amqp_url               = module.broker.amqp_url_secret_arn
    core_cash_api_key      = module.secrets.core_credential_arns.cash_api_key
    core_mortgage_password = module.secrets.core_credential_arns.mortgage_password
    core_vehicle_token     = module.secrets.core_credential_arns.vehicle_token
    mainframe_sftp_key     = module.secrets.mainframe_sftp_key_arn
    webhook_secrets        = module.secrets.webhook_secret_arns
  }
  secrets_kms_key_arn = module.keys.secrets_key_arn
  logs_kms_key_arn    = module.keys.logs_key_arn
  log_retention_days  = local.log_retention_days
}

module "mainframe_link" {
  source                  = "../../modules/mainframe-link"
  name                    = var.name
  tags                    = local.tags
  vpc_id                  = module.network.vpc_id
  private_route_table_ids = module.network.private_route_table_ids
  customer_gateway_ip     = var.mainframe.customer_gateway_ip
  mainframe_cidr          = var.mainframe.cidr
  sftp_port               = var.mainframe.sftp_port
  batch_security_group_id = module.compute.batch_security_group_id
  logs_kms_key_arn        = module.keys.logs_key_arn
  log_retention_days      = local.log_retention_days
}

module "observability" {
  source           = "../../modules/observability"
  name             = var.name
  tags             = local.tags
  alarm_emails     = var.alarm_emails
  kms_key_arn      = module.keys.secrets_key_arn
  api_name         = module.edge.api_name
  api_stage        = module.edge.stage_name
  broker_name      = module.broker.broker_name
  metric_namespace = module.compute.metric_namespace
}
