# aws_iam_policy_attachment: an exclusive attachment of a managed policy to
# users, roles and groups. Only users are IAM-071's business.

# want: aws_iam_policy_attachment user=alice userref=aws_iam_user.alice policy=arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
# want: aws_iam_policy_attachment user=frank policy=arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
resource "aws_iam_policy_attachment" "s3_ro" {
  name       = "s3-read-only"
  users      = [aws_iam_user.alice.name, "frank"]
  roles      = ["deployer"]
  groups     = [aws_iam_group.developers.name]
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
}

# want: aws_iam_policy_attachment userref=var.extra_users policyref=aws_iam_policy.deploy.arn note="the users are decided by var.extra_users"
resource "aws_iam_policy_attachment" "extra" {
  name       = "extra"
  users      = var.extra_users
  policy_arn = aws_iam_policy.deploy.arn
}

# Negative: no users.
resource "aws_iam_policy_attachment" "empty_users" {
  name       = "empty"
  users      = []
  groups     = [aws_iam_group.developers.name]
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
}

# Negative: users = null.
resource "aws_iam_policy_attachment" "null_users" {
  name       = "null"
  users      = null
  roles      = ["deployer"]
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
}

# Negative: groups and roles only.
resource "aws_iam_policy_attachment" "groups_only" {
  name       = "groups-only"
  groups     = [aws_iam_group.developers.name]
  roles      = ["deployer"]
  policy_arn = aws_iam_policy.deploy.arn
}

# Negative: count = 0.
resource "aws_iam_policy_attachment" "off" {
  count      = 0
  name       = "off"
  users      = ["alice"]
  policy_arn = aws_iam_policy.deploy.arn
}
