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

# The API's 5xx rate is metric math over two API Gateway metrics, so it has a resource of its own.
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

# Every other alarm watches one metric: one definition each below, repeated over what `per` names
# (once, per core, per queue lane, per channel, per dead-letter queue); `{key}` in a description or a
# dimension stands for that core, channel or queue. Defaults: the hub's namespace, one evaluation
# period, missing data not breaching. Issue 13's metrics follow docs/metrics.md ("alert on"). Counters
# reach CloudWatch as the delta between scrapes (the CloudWatch agent's Prometheus conversion), so a
# Sum over the period is what the counter grew by.
locals {
  alarm_instances = {
    once    = [""]
    core    = var.cores
    lane    = concat(var.cores, ["results"])
    channel = var.channels
    dlq     = var.dead_letter_queues
  }

  alarm_defaults = {
    namespace = var.metric_namespace
    periods   = 1
    missing   = "notBreaching"
  }

  alarm_definitions = {
    dlq = {
      per         = "dlq"
      description = "{key} holds messages: replay or resolve them (loanhub dlq list)"
      namespace   = "AWS/AmazonMQ"
      metric      = "MessageCount"
      dimensions  = { Broker = var.broker_name, VirtualHost = "/", Queue = "{key}" }
      statistic   = "Maximum"
      period      = 300
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
    outbox-lag = {
      per         = "once"
      description = "The oldest unsent outbox row is older than ${var.outbox_lag_seconds} s: payments are not reaching the cores"
      metric      = "loanhub_outbox_lag_seconds"
      dimensions  = { job = "loanhub-serve" }
      statistic   = "Maximum"
      period      = 60
      periods     = 3
      comparison  = "GreaterThanThreshold"
      threshold   = var.outbox_lag_seconds
      missing     = "breaching" # serve not reporting its lag is an alarm too
    }
    night-files-overdue = {
      per         = "once"
      description = "A night file was not accepted by the mainframe by its response deadline (loanhub batch status)"
      metric      = "loanhub_batch_files_overdue"
      dimensions  = { job = "loanhub-batch" }
      statistic   = "Maximum"
      period      = 300
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
    breaker-open = {
      per         = "core"
      description = "The {key} core's circuit breaker has been open for 3 minutes: the core is down, commands wait in the retry queues"
      metric      = "loanhub_core_breaker_state"
      dimensions  = { core = "{key}" }
      statistic   = "Minimum"
      period      = 60
      periods     = 3
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
    reconciliation-breaks-open = {
      per         = "once"
      description = "Reconciliation breaks are open (hub, cores, mainframe and channel settlements disagree)"
      metric      = "loanhub_reconciliation_breaks_open"
      dimensions  = { job = "loanhub-batch" }
      statistic   = "Maximum"
      period      = 3600
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
    commands-dead-lettered = {
      per         = "core"
      description = "Commands of the {key} core went to the dead letters in the last 15 minutes: their payments stay ACCEPTED until replayed (loanhub dlq list --core {key})"
      metric      = "loanhub_commands_dead_lettered_total"
      dimensions  = { core = "{key}" }
      statistic   = "Sum"
      period      = 900
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
    queue-backlog = {
      per         = "lane"
      description = "More than ${var.queue_ready_max} messages have waited on the {key} queue for 10 minutes: its consumers are missing or too slow (loanhub queues)"
      metric      = "loanhub_queue_messages"
      dimensions  = { core = "{key}", state = "ready" }
      statistic   = "Maximum"
      period      = 60
      periods     = 10
      comparison  = "GreaterThanThreshold"
      threshold   = var.queue_ready_max
    }
    queue-no-consumers = {
      per         = "core"
      description = "No consumer on the {key} work queue for 2 minutes: no loanhub work process takes that core"
      metric      = "loanhub_queue_consumers"
      dimensions  = { core = "{key}" }
      statistic   = "Maximum"
      period      = 60
      periods     = 2
      comparison  = "LessThanThreshold"
      threshold   = 1
    }
    queue-stats-down = {
      per         = "once"
      description = "serve has not read the queue depths for 5 minutes: the broker is unreachable or its topology missing; the queue alarms are blind"
      metric      = "loanhub_queue_stats_up"
      dimensions  = { job = "loanhub-serve" }
      statistic   = "Maximum"
      period      = 60
      periods     = 5
      comparison  = "LessThanThreshold"
      threshold   = 1
    }
    webhook-backlog-age = {
      per         = "channel"
      description = "The {key} channel's oldest unfinished webhook is older than ${var.webhook_backlog_age_seconds} s: it learns of payments late (loanhub webhooks)"
      metric      = "loanhub_webhook_backlog_oldest_age_seconds"
      dimensions  = { channel = "{key}" }
      statistic   = "Maximum"
      period      = 300
      comparison  = "GreaterThanThreshold"
      threshold   = var.webhook_backlog_age_seconds
    }
    webhook-endpoint-disabled = {
      per         = "channel"
      description = "The {key} channel's webhook endpoint answered 410 Gone and is disabled: agree with the channel, then loanhub webhooks enable --channel {key}"
      metric      = "loanhub_webhook_endpoint_disabled"
      dimensions  = { channel = "{key}" }
      statistic   = "Maximum"
      period      = 60
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
    webhook-gave-up = {
      per         = "channel"
      description = "Webhooks to the {key} channel ran out of attempts in the last hour (loanhub webhooks redeliver --dead)"
      metric      = "loanhub_webhook_deliveries_total"
      dimensions  = { channel = "{key}", outcome = "gave_up" }
      statistic   = "Sum"
      period      = 3600
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
    webhook-store-down = {
      per         = "once"
      description = "serve has not read the webhook delivery table for 5 minutes: the store is down or overloaded; the webhook alarms are blind"
      metric      = "loanhub_webhook_store_up"
      dimensions  = { job = "loanhub-serve" }
      statistic   = "Maximum"
      period      = 60
      periods     = 5
      comparison  = "LessThanThreshold"
      threshold   = 1
    }
  }

  # One alarm per definition and instance, named <definition>[-<key>] after the environment's prefix.
  alarms = merge([
    for id, a in local.alarm_definitions : {
      for key in local.alarm_instances[a.per] : (key == "" ? id : "${id}-${key}") => merge(local.alarm_defaults, a, {
        description = replace(a.description, "{key}", key)
        dimensions  = { for d, v in a.dimensions : d => replace(v, "{key}", key) }
      })
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "metric" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.periods
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
