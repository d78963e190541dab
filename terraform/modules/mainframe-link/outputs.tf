output "vpn_connection_id" {
  description = "The VPN connection (its tunnel addresses and pre-shared keys go to the bank's network team)."
  value       = aws_vpn_connection.mainframe.id
}

output "tunnel_addresses" {
  description = "Outside addresses of the two tunnels, for the bank's VPN device."
  value       = [aws_vpn_connection.mainframe.tunnel1_address, aws_vpn_connection.mainframe.tunnel2_address]
}
