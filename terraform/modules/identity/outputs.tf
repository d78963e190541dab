output "issuer" {
  description = "iss of the pool's tokens: the hub's LOANHUB_ISSUER."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "jwks_url" {
  description = "The pool's public keys: the hub's LOANHUB_JWKS_URL."
  value       = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.this.id}/.well-known/jwks.json"
}

output "scope_prefix" {
  description = "What Cognito puts before each scope: the hub's LOANHUB_SCOPE_PREFIX."
  value       = "${aws_cognito_resource_server.hub.identifier}/"
}

output "token_endpoint" {
  description = "Where channels get tokens (client-credentials grant)."
  value       = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.name}.amazoncognito.com/oauth2/token"
}

output "user_pool_arn" {
  description = "The pool, for the edge's Cognito authorizer."
  value       = aws_cognito_user_pool.this.arn
}

output "client_ids" {
  description = "Cognito app client id of each channel: the hub's LOANHUB_CHANNEL_<CH>_CLIENT_IDS."
  value       = { for channel, c in aws_cognito_user_pool_client.channel : channel => c.id }
}

output "channel_scopes" {
  description = "Full scope names each channel's client may ask for, by channel."
  value       = { for channel, c in aws_cognito_user_pool_client.channel : channel => c.allowed_oauth_scopes }
}

output "client_secret_arns" {
  description = "Secret holding each channel's client id, secret and token endpoint, by channel."
  value       = { for channel, s in aws_secretsmanager_secret.client : channel => s.arn }
}
