output "logs_key_arn" {
  description = "KMS key of every CloudWatch log group."
  value       = aws_kms_key.logs.arn
}

output "secrets_key_arn" {
  description = "KMS key of Secrets Manager secrets and the alarm topic."
  value       = aws_kms_key.secrets.arn
}
