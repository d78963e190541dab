# Alarms an operations team at a bank is paged for, on one encrypted SNS topic: the API answering
# 5xx, a dead-letter queue that is not empty, the outbox falling behind, the night's files not
# accepted by their deadline, a loan core's circuit breaker open, reconciliation breaks left open.
# The last four, and the issue 13 alarms below, are the hub's Prometheus metrics, sent to CloudWatch by
# each task's agent (compute).

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_percent}% of the channel API's answers are 5xx"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx percent"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5XXError"
      period      = 300
      stat        = "Sum"
      dimensions  = { ApiName = var.api_name, Stage = var.api_stage }
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      period      = 300
      stat        = "Sum"
      dimensions  = { ApiName = var.api_name, Stage = var.api_stage }
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each            = toset(var.dead_letter_queues)
  alarm_name          = "${var.name}-dlq-${each.key}"
  alarm_description   = "${each.key} holds messages: replay or resolve them (loanhub dlq list)"
  namespace           = "AWS/AmazonMQ"
  metric_name         = "MessageCount"
  dimensions          = { Broker = var.broker_name, VirtualHost = "/", Queue = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "outbox_lag" {
  alarm_name          = "${var.name}-outbox-lag"
  alarm_description   = "The oldest unsent outbox row is older than ${var.outbox_lag_seconds} s: payments are not reaching the cores"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_outbox_lag_seconds"
  dimensions          = { job = "loanhub-serve" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.outbox_lag_seconds
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "night_files_overdue" {
  alarm_name          = "${var.name}-night-files-overdue"
  alarm_description   = "A night file was not accepted by the mainframe by its response deadline (loanhub batch status)"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_batch_files_overdue"
  dimensions          = { job = "loanhub-batch" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "breaker_open" {
  for_each            = toset(var.cores)
  alarm_name          = "${var.name}-breaker-open-${each.key}"
  alarm_description   = "The ${each.key} core's circuit breaker has been open for 3 minutes: the core is down, commands wait in the retry queues"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_core_breaker_state"
  dimensions          = { core = each.key }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "reconciliation_breaks" {
  alarm_name          = "${var.name}-reconciliation-breaks-open"
  alarm_description   = "Reconciliation breaks are open (hub, cores, mainframe and channel settlements disagree)"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_reconciliation_breaks_open"
  dimensions          = { job = "loanhub-batch" }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# Issue 13's metrics (docs/metrics.md, "alert on"): dead letters per core, queue depth and consumers,
# the webhook backlog, deliveries given up and disabled endpoints, and the two `..._up` gauges that say
# whether the others can be trusted. Counters reach CloudWatch as the delta between scrapes (the
# CloudWatch agent's Prometheus conversion), so a Sum over the period is what the counter grew by.

resource "aws_cloudwatch_metric_alarm" "commands_dead_lettered" {
  for_each            = toset(var.cores)
  alarm_name          = "${var.name}-commands-dead-lettered-${each.key}"
  alarm_description   = "Commands of the ${each.key} core went to the dead letters in the last 15 minutes: their payments stay ACCEPTED until replayed (loanhub dlq list --core ${each.key})"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_commands_dead_lettered_total"
  dimensions          = { core = each.key }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_backlog" {
  for_each            = toset(concat(var.cores, ["results"]))
  alarm_name          = "${var.name}-queue-backlog-${each.key}"
  alarm_description   = "More than ${var.queue_ready_max} messages have waited on the ${each.key} queue for 10 minutes: its consumers are missing or too slow (loanhub queues)"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_queue_messages"
  dimensions          = { core = each.key, state = "ready" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 10
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.queue_ready_max
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_no_consumers" {
  for_each            = toset(var.cores)
  alarm_name          = "${var.name}-queue-no-consumers-${each.key}"
  alarm_description   = "No consumer on the ${each.key} work queue for 2 minutes: no loanhub work process takes that core"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_queue_consumers"
  dimensions          = { core = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_stats_down" {
  alarm_name          = "${var.name}-queue-stats-down"
  alarm_description   = "serve has not read the queue depths for 5 minutes: the broker is unreachable or its topology missing; the queue alarms are blind"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_queue_stats_up"
  dimensions          = { job = "loanhub-serve" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webhook_backlog_age" {
  for_each            = toset(var.channels)
  alarm_name          = "${var.name}-webhook-backlog-age-${each.key}"
  alarm_description   = "The ${each.key} channel's oldest unfinished webhook is older than ${var.webhook_backlog_age_seconds} s: it learns of payments late (loanhub webhooks)"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_webhook_backlog_oldest_age_seconds"
  dimensions          = { channel = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.webhook_backlog_age_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webhook_endpoint_disabled" {
  for_each            = toset(var.channels)
  alarm_name          = "${var.name}-webhook-endpoint-disabled-${each.key}"
  alarm_description   = "The ${each.key} channel's webhook endpoint answered 410 Gone and is disabled: agree with the channel, then loanhub webhooks enable --channel ${each.key}"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_webhook_endpoint_disabled"
  dimensions          = { channel = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webhook_gave_up" {
  for_each            = toset(var.channels)
  alarm_name          = "${var.name}-webhook-gave-up-${each.key}"
  alarm_description   = "Webhooks to the ${each.key} channel ran out of attempts in the last hour (loanhub webhooks redeliver --dead)"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_webhook_deliveries_total"
  dimensions          = { channel = each.key, outcome = "gave_up" }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webhook_store_down" {
  alarm_name          = "${var.name}-webhook-store-down"
  alarm_description   = "serve has not read the webhook delivery table for 5 minutes: the store is down or overloaded; the webhook alarms are blind"
  namespace           = var.metric_namespace
  metric_name         = "loanhub_webhook_store_up"
  dimensions          = { job = "loanhub-serve" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
