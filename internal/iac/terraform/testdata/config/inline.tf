# aws_iam_user_policy: an inline policy embedded in a user.

# want: aws_iam_user_policy user=erin policy=erin-s3
resource "aws_iam_user_policy" "erin_s3" {
  name = "erin-s3"
  user = "erin"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action   = ["s3:GetObject"]
      Effect   = "Allow"
      Resource = "*"
    }]
  })
}

# want: aws_iam_user_policy user=alice userref=aws_iam_user.alice policy=alice-ec2
resource "aws_iam_user_policy" "alice_ec2" {
  name   = "alice-ec2"
  user   = aws_iam_user.alice.name
  policy = data.aws_iam_policy_document.ec2.json
}

# want: aws_iam_user_policy userref=var.user_name policy=ci note="the user is decided by var.user_name"
resource "aws_iam_user_policy" "ci" {
  name   = "ci"
  user   = var.user_name
  policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
}

# want: aws_iam_user_policy userref=local.ci_user policyref=${var.prefix}-ci note="the user is decided by local.ci_user"
resource "aws_iam_user_policy" "ci_local" {
  name   = "${var.prefix}-ci"
  user   = local.ci_user
  policy = "{}"
}

# name_prefix: the policy name is generated.
# want: aws_iam_user_policy user=bob userref=aws_iam_user.bob
resource "aws_iam_user_policy" "bob_generated" {
  name_prefix = "bob-"
  user        = aws_iam_user.bob.id
  policy      = "{}"
}

# The referenced user's name is not literal.
# want: aws_iam_user_policy userref=aws_iam_user.svc policy=svc note="the user's name is decided by ${var.prefix}-svc"
resource "aws_iam_user_policy" "svc" {
  name   = "svc"
  user   = aws_iam_user.svc.name
  policy = "{}"
}

# A data source decides the user.
# want: aws_iam_user_policy userref=data.aws_iam_user.existing.user_name policy=existing
resource "aws_iam_user_policy" "existing" {
  name   = "existing"
  user   = data.aws_iam_user.existing.user_name
  policy = "{}"
}

# Negative: count = 0 creates no instance.
resource "aws_iam_user_policy" "disabled" {
  count  = 0
  name   = "disabled"
  user   = "erin"
  policy = "{}"
}

# Negative: a policy on a role is not IAM-071's business.
resource "aws_iam_role_policy" "role_inline" {
  name   = "role-inline"
  role   = "deployer"
  policy = "{}"
}

data "aws_iam_user" "existing" {
  user_name = "existing-user"
}

data "aws_iam_policy_document" "ec2" {
  statement {
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
  }
}
