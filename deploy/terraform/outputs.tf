output "repository_url" {
  description = "Where CI pushes the image."
  value       = aws_ecr_repository.envsched.repository_url
}

output "task_role_arn" {
  description = "Trust this role from the roles in other accounts (assume_role_arns)."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  value = aws_iam_role.execution.arn
}

output "notion_secret_arn" {
  value = aws_secretsmanager_secret.notion.arn
}

output "datadog_api_key_secret_arn" {
  value = aws_secretsmanager_secret.datadog_api_key.arn
}

output "security_group_id" {
  value = aws_security_group.envsched.id
}

output "log_router_log_group" {
  value = aws_cloudwatch_log_group.log_router.name
}

output "lease_table" {
  description = "The config's [aws.lease] table."
  value       = aws_dynamodb_table.lease.name
}
