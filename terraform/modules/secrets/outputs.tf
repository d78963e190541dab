output "db_url_arn" {
  description = "Secret holding LOANHUB_DB_URL."
  value       = aws_secretsmanager_secret.external["db-url"].arn
}

output "core_credential_arns" {
  description = "Secrets of the loan cores' credentials: cash_api_key, mortgage_password, vehicle_token."
  value = {
    cash_api_key      = aws_secretsmanager_secret.external["core-cash-api-key"].arn
    mortgage_password = aws_secretsmanager_secret.external["core-mortgage-password"].arn
    vehicle_token     = aws_secretsmanager_secret.external["core-vehicle-token"].arn
  }
}

output "webhook_secret_arns" {
  description = "Secret of each channel's webhook signing secrets, by channel."
  value       = { for channel in var.channels : channel => aws_secretsmanager_secret.external["webhook-secrets-${channel}"].arn }
}

output "mainframe_sftp_key_arn" {
  description = "Secret holding the SFTP private key."
  value       = aws_secretsmanager_secret.external["mainframe-sftp-key"].arn
}
