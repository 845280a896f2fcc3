# aws_iam_user_policy_attachment: a managed policy attached to a user.

# want: aws_iam_user_policy_attachment user=alice policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "alice_ro" {
  user       = "alice"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# want: aws_iam_user_policy_attachment user=bob userref=aws_iam_user.bob policyref=aws_iam_policy.deploy.arn
resource "aws_iam_user_policy_attachment" "bob_deploy" {
  user       = aws_iam_user.bob.name
  policy_arn = aws_iam_policy.deploy.arn
}

# Interpolation of the whole value is the reference itself.
# want: aws_iam_user_policy_attachment user=alice userref=aws_iam_user.alice policyref=arn:aws:iam::${data.aws_caller_identity.current.account_id}:policy/deploy
resource "aws_iam_user_policy_attachment" "alice_deploy" {
  user       = "${aws_iam_user.alice.name}"
  policy_arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:policy/deploy"
}

# One instance per user: the user is decided per instance.
# want: aws_iam_user_policy_attachment userref=each.key policy=arn:aws:iam::aws:policy/job-function/ViewOnlyAccess note="the user is decided by each.key"
resource "aws_iam_user_policy_attachment" "viewers" {
  for_each   = toset(["alice", "bob"])
  user       = each.key
  policy_arn = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
}

# A reference to a user this module does not declare.
# want: aws_iam_user_policy_attachment userref=aws_iam_user.ghost policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "ghost" {
  user       = aws_iam_user.ghost.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# Negative: count = 0.
resource "aws_iam_user_policy_attachment" "off" {
  count      = 0
  user       = "alice"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

# Negative: for_each over an empty map.
resource "aws_iam_user_policy_attachment" "none" {
  for_each   = {}
  user       = each.key
  policy_arn = each.value
}

# Negative: a role attachment.
resource "aws_iam_role_policy_attachment" "role_ro" {
  role       = "deployer"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

data "aws_caller_identity" "current" {}
