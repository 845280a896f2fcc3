terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "user_name" {
  type        = string
  description = "The IAM user the CI pipeline runs as."
}

variable "extra_users" {
  type    = list(string)
  default = []
}

variable "prefix" {
  type    = string
  default = "app"
}

locals {
  ci_user = "ci-bot"
}

# Two instances of the same local module: its resources are addressed
# under each call.
module "team" {
  source    = "./modules/iam"
  user_name = "dave"
}

module "contractors" {
  source    = "./modules/iam/"
  user_name = var.user_name
}

# A registry module is not in the tree and is not scanned.
module "remote" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-user"
  version = "~> 5.0"
  name    = "remote-user"
}

resource "aws_iam_policy" "deploy" {
  name = "deploy"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "arn:aws:s3:::artifacts/*"
    }]
  })
}
