output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "The VPC's address range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (NAT gateways only)."
  value       = [for s in aws_subnet.public : s.id]
}

output "private_subnet_ids" {
  description = "Private subnets: tasks, database, broker, internal load balancer."
  value       = [for s in aws_subnet.private : s.id]
}

output "private_route_table_ids" {
  description = "Route tables of the private subnets (the mainframe link adds its route to each)."
  value       = [for rt in aws_route_table.private : rt.id]
}

output "endpoints_security_group_id" {
  description = "Security group of the interface endpoints (tasks' egress on 443 goes to it)."
  value       = aws_security_group.endpoints.id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint (ECR image layers)."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}
