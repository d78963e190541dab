output "alarm_topic_arn" {
  description = "SNS topic of every alarm (subscribe pagers and chat here)."
  value       = aws_sns_topic.alarms.arn
}
