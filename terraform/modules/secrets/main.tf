# The secrets whose values come from outside Terraform, so they never sit in its state: the hub's own
# database URL (an application role the DBA creates, not the master user), each channel's webhook
# signing secrets, each loan core's credentials, and the SFTP private key the mainframe team registers.
# Terraform makes the encrypted containers; operators put the values (docs/deploy.md, step 3).

locals {
  external = merge(
    {
      db-url                 = "postgres://<app role>:<password>@<database endpoint>:5432/loanhub?sslmode=verify-full"
      core-cash-api-key      = "API key of the cash-loan core"
      core-mortgage-password = "basic-auth password of the mortgage core"
      core-vehicle-token     = "bearer token of the vehicle core"
      mainframe-sftp-key     = "OpenSSH private key of the SFTP user the mainframe team registered"
    },
    { for channel in var.channels : "webhook-secrets-${channel}" => "whsec_... signing secrets of the ${channel} channel, newest first" },
  )
}

resource "aws_secretsmanager_secret" "external" {
  for_each                = local.external
  name                    = "${var.name}/${each.key}"
  description             = each.value
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}
