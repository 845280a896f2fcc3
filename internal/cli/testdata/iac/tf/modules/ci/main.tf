variable "deployer" {
  type = string
}

resource "aws_iam_user_policy" "deploy" {
  name   = "deploy"
  user   = var.deployer
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "*" }] })
}
