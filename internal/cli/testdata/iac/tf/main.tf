resource "aws_iam_user" "alice" {
  name = "alice"
}

resource "aws_iam_user" "bob" {
  name = "bob"
}

resource "aws_iam_user_group_membership" "bob" {
  user   = aws_iam_user.bob.name
  groups = ["developers"]
}

resource "aws_iam_user_policy_attachment" "alice_ro" {
  user       = aws_iam_user.alice.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# iamgroups:ignore IAM-071 break-glass user, reviewed by security exp:2099-12-31
resource "aws_iam_user_policy_attachment" "breakglass_admin" {
  user       = "break-glass"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

module "ci" {
  source = "./modules/ci"
}
