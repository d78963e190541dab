output "cluster_name" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS service of each process: serve, work-cash, work-mortgage, work-vehicle, batch."
  value       = merge({ serve = aws_ecs_service.serve.name }, { for k, s in aws_ecs_service.background : k => s.name })
}

output "security_group_ids" {
  description = "Security group of each service's tasks."
  value       = { for k, sg in aws_security_group.service : k => sg.id }
}

output "batch_security_group_id" {
  description = "Security group of the batch task (the mainframe link adds its only way out of the VPC)."
  value       = aws_security_group.service["batch"].id
}

output "serve_security_group_id" {
  description = "Security group of the serve tasks."
  value       = aws_security_group.service["serve"].id
}

output "metric_namespace" {
  description = "CloudWatch namespace of the hub's metrics."
  value       = var.metric_namespace
}
