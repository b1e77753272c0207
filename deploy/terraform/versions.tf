terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
  # Keep the state where ecspresso's tfstate plugin can read it (ecspresso.yml), e.g.:
  # backend "s3" {
  #   bucket = "platform-terraform-state"
  #   key    = "envsched/terraform.tfstate"
  #   region = "ap-northeast-1"
  # }
}
