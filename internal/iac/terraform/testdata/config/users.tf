# want-user: name=alice
resource "aws_iam_user" "alice" {
  name = "alice"
  path = "/people/"
}

# want-user: name=bob
resource "aws_iam_user" "bob" {
  name          = "bob"
  force_destroy = true
}

# The name is not literal: the user is reported without a name.
# want-user: name=""
resource "aws_iam_user" "svc" {
  name = "${var.prefix}-svc"
}

# No instance: not reported.
resource "aws_iam_user" "never" {
  count = 0
  name  = "never"
}

# carol gets her permissions through a group only: she passes.
# want-user: name=carol
resource "aws_iam_user" "carol" {
  name = "carol"
}

resource "aws_iam_group" "developers" {
  name = "developers"
}

resource "aws_iam_user_group_membership" "carol" {
  user   = aws_iam_user.carol.name
  groups = [aws_iam_group.developers.name]
}

resource "aws_iam_group_policy_attachment" "developers_ro" {
  group      = aws_iam_group.developers.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_group_policy" "developers_inline" {
  name  = "developers-inline"
  group = aws_iam_group.developers.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "ec2:Describe*", Resource = "*" }]
  })
}
