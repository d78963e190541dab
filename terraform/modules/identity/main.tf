# Cognito for machine clients: one user pool with no users (no sign-up, no passwords), the hub's
# resource server with its scopes, and one app client per channel with the client-credentials grant
# and only that channel's scopes. The hub verifies the pool's access tokens through its JWKS
# (LOANHUB_JWKS_URL + LOANHUB_ISSUER, no audience: Cognito access tokens carry client_id instead) and
# maps client_id to the channel (LOANHUB_CHANNEL_<CH>_CLIENT_IDS).

data "aws_region" "current" {}

resource "aws_cognito_user_pool" "this" {
  name                = "${var.name}-machine-clients"
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 16
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 1
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = var.domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_resource_server" "hub" {
  user_pool_id = aws_cognito_user_pool.this.id
  identifier   = var.resource_server_identifier
  name         = "LoanHub API"

  dynamic "scope" {
    for_each = var.scopes
    content {
      scope_name        = scope.key
      scope_description = scope.value
    }
  }
}

resource "aws_cognito_user_pool_client" "channel" {
  for_each     = var.channels
  name         = "${each.key}-client"
  user_pool_id = aws_cognito_user_pool.this.id

  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["client_credentials"]
  allowed_oauth_scopes                 = [for s in each.value.scopes : "${aws_cognito_resource_server.hub.identifier}/${s}"]
  supported_identity_providers         = ["COGNITO"]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true

  access_token_validity = var.access_token_minutes
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  lifecycle {
    precondition {
      condition     = alltrue([for s in each.value.scopes : contains(keys(var.scopes), s)])
      error_message = "A channel asks for a scope the resource server does not define."
    }
  }
}

# Each channel team fetches its client id and secret from here (its IAM principal is granted read by
# the platform team); the secret never needs to travel by mail.
resource "aws_secretsmanager_secret" "client" {
  for_each                = var.channels
  name                    = "${var.name}/oauth-client-${each.key}"
  description             = "Client-credentials of the ${each.key} channel at the Cognito token endpoint"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "client" {
  for_each  = var.channels
  secret_id = aws_secretsmanager_secret.client[each.key].id
  secret_string = jsonencode({
    client_id      = aws_cognito_user_pool_client.channel[each.key].id
    client_secret  = aws_cognito_user_pool_client.channel[each.key].client_secret
    token_endpoint = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com/oauth2/token"
  })
}
