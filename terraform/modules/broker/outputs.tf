output "broker_id" {
  description = "Amazon MQ broker id."
  value       = aws_mq_broker.this.id
}

output "broker_name" {
  description = "Broker name (CloudWatch dimension Broker)."
  value       = aws_mq_broker.this.broker_name
}

output "security_group_id" {
  description = "The broker's security group."
  value       = aws_security_group.broker.id
}

output "amqp_url_secret_arn" {
  description = "Secret holding LOANHUB_AMQP_URL."
  value       = aws_secretsmanager_secret.amqp_url.arn
}

output "management_url_secret_arn" {
  description = "Secret holding LOANHUB_AMQP_MANAGEMENT_URL."
  value       = aws_secretsmanager_secret.management_url.arn
}
