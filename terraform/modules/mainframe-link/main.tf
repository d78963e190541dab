# The private link to the mainframe on premises: an AWS Site-to-Site VPN (virtual private gateway,
# the bank's customer gateway, two IPsec tunnels with IKEv2 and AES-256, static routes), a route to
# the mainframe's network from every private subnet, and the one security-group rule that lets
# traffic across: from the batch task to the mainframe's SFTP port.

resource "aws_vpn_gateway" "this" {
  vpc_id = var.vpc_id
  tags   = merge(var.tags, { Name = "${var.name}-mainframe" })
}

resource "aws_customer_gateway" "mainframe" {
  bgp_asn    = var.customer_gateway_bgp_asn
  ip_address = var.customer_gateway_ip
  type       = "ipsec.1"
  tags       = merge(var.tags, { Name = "${var.name}-mainframe" })
}

resource "aws_cloudwatch_log_group" "tunnels" {
  name              = "/loanhub/${var.name}/mainframe-vpn"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_vpn_connection" "mainframe" {
  vpn_gateway_id      = aws_vpn_gateway.this.id
  customer_gateway_id = aws_customer_gateway.mainframe.id
  type                = "ipsec.1"
  static_routes_only  = true

  tunnel1_ike_versions                 = ["ikev2"]
  tunnel1_phase1_encryption_algorithms = ["AES256"]
  tunnel1_phase2_encryption_algorithms = ["AES256"]
  tunnel1_phase1_integrity_algorithms  = ["SHA2-256"]
  tunnel1_phase2_integrity_algorithms  = ["SHA2-256"]
  tunnel1_phase1_dh_group_numbers      = [20]
  tunnel1_phase2_dh_group_numbers      = [20]
  tunnel1_log_options {
    cloudwatch_log_options {
      log_enabled       = true
      log_group_arn     = aws_cloudwatch_log_group.tunnels.arn
      log_output_format = "json"
    }
  }

  tunnel2_ike_versions                 = ["ikev2"]
  tunnel2_phase1_encryption_algorithms = ["AES256"]
  tunnel2_phase2_encryption_algorithms = ["AES256"]
  tunnel2_phase1_integrity_algorithms  = ["SHA2-256"]
  tunnel2_phase2_integrity_algorithms  = ["SHA2-256"]
  tunnel2_phase1_dh_group_numbers      = [20]
  tunnel2_phase2_dh_group_numbers      = [20]
  tunnel2_log_options {
    cloudwatch_log_options {
      log_enabled       = true
      log_group_arn     = aws_cloudwatch_log_group.tunnels.arn
      log_output_format = "json"
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-mainframe" })
}

resource "aws_vpn_connection_route" "mainframe" {
  vpn_connection_id      = aws_vpn_connection.mainframe.id
  destination_cidr_block = var.mainframe_cidr
}

resource "aws_route" "to_mainframe" {
  for_each               = toset(var.private_route_table_ids)
  route_table_id         = each.value
  destination_cidr_block = var.mainframe_cidr
  gateway_id             = aws_vpn_gateway.this.id
}

# The only rule in the deployment whose destination is the mainframe's network.
resource "aws_vpc_security_group_egress_rule" "batch_to_sftp" {
  security_group_id = var.batch_security_group_id
  description       = "SFTP to the mainframe"
  ip_protocol       = "tcp"
  from_port         = var.sftp_port
  to_port           = var.sftp_port
  cidr_ipv4         = var.mainframe_cidr
}
