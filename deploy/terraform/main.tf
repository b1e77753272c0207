# What envsched needs in AWS to run as one Fargate task: its image repository, two roles
# (execution: pull the image and read the secrets; task: exactly the calls the fleet makes),
# the secrets (values are put outside Terraform, so they never enter the state), a log group
# for the log router, a security group, and the DynamoDB table of the lease that makes one
# copy of envsched the active one ([aws.lease]). The ECS service itself is deployed by ecspresso
# (../ecspresso), which reads this state through its tfstate plugin.

data "aws_caller_identity" "current" {}

locals {
  # arn:aws:ecs:<region>:<account>:cluster/<name> → the services in it.
  managed_service_arns = [for arn in var.managed_cluster_arns : "${replace(arn, ":cluster/", ":service/")}/*"]
  envsched_tag_keys    = ["${var.tag_prefix}count", "${var.tag_prefix}autoscaling", "${var.tag_prefix}state"]
}

resource "aws_ecr_repository" "envsched" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}

# {"token": "ntn_…", "webhook_token": "…"}: put with
#   aws secretsmanager put-secret-value --secret-id envsched/notion --secret-string file://notion.json
resource "aws_secretsmanager_secret" "notion" {
  name        = "${var.name}/notion"
  description = "Notion integration token (token) and webhook verification token (webhook_token) for envsched."
}

resource "aws_secretsmanager_secret" "datadog_api_key" {
  name        = "${var.name}/datadog-api-key"
  description = "Datadog API key for the Agent and the log router in the envsched task."
}

# One item per lease key: {pk, owner, expires_at, renewed_at}, written with conditional puts
# (crates/envsched-aws/README.md, "One active copy"). A few requests a minute: on-demand
# costs next to nothing.
resource "aws_dynamodb_table" "lease" {
  name         = "${var.name}-lease"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_cloudwatch_log_group" "log_router" {
  name              = "/ecs/${var.name}/log-router"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# --- Execution role: pull the image, write the log router's logs, read the two secrets.

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.notion.arn, aws_secretsmanager_secret.datadog_api_key.arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# --- Task role: the calls envsched makes (envsched_aws::IAM_ACTIONS), and nothing else.

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ListServicesOfManagedClusters"
    actions   = ["ecs:ListServices"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = var.managed_cluster_arns
    }
  }

  statement {
    sid       = "ScaleManagedServices"
    actions   = ["ecs:DescribeServices", "ecs:UpdateService"]
    resources = local.managed_service_arns
  }

  # Only envsched's own memory tags; never <prefix>protected, which people set. No
  # untagging: envsched never deletes its memory (crates/envsched-aws/README.md, "Remembered counts").
  statement {
    sid       = "TagManagedServicesWithOwnKeys"
    actions   = ["ecs:TagResource"]
    resources = local.managed_service_arns
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = local.envsched_tag_keys
    }
  }

  # Application Auto Scaling has no resource-level scoping for these; UpdateService above
  # bounds what a registration can affect.
  statement {
    sid       = "ParkAndRestoreAutoscaling"
    actions   = ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:RegisterScalableTarget"]
    resources = ["*"]
  }

  statement {
    sid       = "DescribeDbClusters"
    actions   = ["rds:DescribeDBClusters"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(var.managed_db_cluster_arns) > 0 ? [1] : []
    content {
      sid       = "StartStopManagedDbClusters"
      actions   = ["rds:StartDBCluster", "rds:StopDBCluster"]
      resources = var.managed_db_cluster_arns
    }
  }

  # The lease: read, take/renew (conditional put) and release (conditional delete) the one
  # item of this deployment's key, in this table only.
  statement {
    sid       = "OneActiveCopy"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.lease.arn]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [var.lease_key]
    }
  }

  dynamic "statement" {
    for_each = length(var.assume_role_arns) > 0 ? [1] : []
    content {
      sid       = "OtherAccounts"
      actions   = ["sts:AssumeRole"]
      resources = var.assume_role_arns
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

resource "aws_iam_role_policy" "task" {
  name   = "envsched"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- Network: HTTPS out (Notion, AWS APIs, Datadog); 8080 in only from the listed CIDRs.

resource "aws_security_group" "envsched" {
  name        = var.name
  description = "envsched: HTTPS out; the status page and webhook port in from listed CIDRs only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.envsched.id
  description       = "Notion, AWS APIs, Datadog"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  for_each          = toset(var.http_ingress_cidrs)
  security_group_id = aws_security_group.envsched.id
  description       = "status page and Notion webhook"
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  cidr_ipv4         = each.value
}
