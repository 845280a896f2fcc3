# The exclusive resources own the complete set of a user's policies.

# want: aws_iam_user_policies_exclusive user=alice userref=aws_iam_user.alice policyref=aws_iam_user_policy.alice_ec2.name
# want: aws_iam_user_policies_exclusive user=alice userref=aws_iam_user.alice policy=legacy-inline
resource "aws_iam_user_policies_exclusive" "alice" {
  user_name    = aws_iam_user.alice.name
  policy_names = [aws_iam_user_policy.alice_ec2.name, "legacy-inline"]
}

# Negative: an empty list removes every inline policy.
resource "aws_iam_user_policies_exclusive" "bob" {
  user_name    = aws_iam_user.bob.name
  policy_names = []
}

# want: aws_iam_user_policy_attachments_exclusive user=bob policy=arn:aws:iam::aws:policy/ReadOnlyAccess
# want: aws_iam_user_policy_attachments_exclusive user=bob policyref=aws_iam_policy.deploy.arn
resource "aws_iam_user_policy_attachments_exclusive" "bob" {
  user_name   = "bob"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess", aws_iam_policy.deploy.arn]
}

# Negative: an empty list detaches every managed policy.
resource "aws_iam_user_policy_attachments_exclusive" "carol" {
  user_name   = aws_iam_user.carol.name
  policy_arns = []
}

# want: aws_iam_user_policy_attachments_exclusive userref=var.user_name policyref=var.ci_policy_arns note="the user is decided by var.user_name"
resource "aws_iam_user_policy_attachments_exclusive" "ci" {
  user_name   = var.user_name
  policy_arns = var.ci_policy_arns
}
