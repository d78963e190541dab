output "endpoint" {
  description = "host:port of the database."
  value       = aws_db_instance.this.endpoint
}

output "address" {
  description = "Host name of the database (the host of LOANHUB_DB_URL)."
  value       = aws_db_instance.this.address
}

output "security_group_id" {
  description = "The database's security group."
  value       = aws_security_group.database.id
}

output "master_user_secret_arn" {
  description = "Secret of the master user, generated and rotated by RDS (for the DBA only)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
