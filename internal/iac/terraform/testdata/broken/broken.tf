# want: aws_iam_user_policy_attachment user=zed policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "ok" {
  user       = "zed"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# Parsing recovers the block: the user is reported, without its name.
# want-user: name=""
resource "aws_iam_user" "oops" {
  # want-error
  name = = "oops"
}
