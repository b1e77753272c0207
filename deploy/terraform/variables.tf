variable "name" {
  description = "Name of the service, its roles, secrets and log group."
  type        = string
  default     = "envsched"
}

variable "managed_cluster_arns" {
  description = "ARNs of the ECS clusters whose services envsched may scale (dev/staging only; never production)."
  type        = list(string)
}

variable "managed_db_cluster_arns" {
  description = "ARNs of the Aurora DB clusters envsched may start and stop. Empty: none."
  type        = list(string)
  default     = []
}

variable "assume_role_arns" {
  description = "Roles in other accounts named by [[environments]] aws.role_arn. Each must trust this task role and carry the same policy in its account."
  type        = list(string)
  default     = []
}

variable "tag_prefix" {
  description = "The config's [tags] prefix: envsched may write only <prefix>count, <prefix>autoscaling and <prefix>state."
  type        = string
  default     = "envsched:"
}

variable "vpc_id" {
  description = "VPC the task runs in (private subnets with a NAT gateway: it calls Notion, AWS APIs and Datadog over HTTPS)."
  type        = string
}

variable "http_ingress_cidrs" {
  description = "CIDRs allowed to reach port 8080 (the status page; the Notion webhook if it comes through a load balancer). Empty: none."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the log router's own logs in CloudWatch (envsched's logs go to Datadog)."
  type        = number
  default     = 30
}

variable "lease_key" {
  description = "The config's [aws.lease] key (default \"envsched\"): the only lease item the task role may read and write."
  type        = string
  default     = "envsched"
}
