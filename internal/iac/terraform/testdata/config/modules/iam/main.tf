# A local module: called twice from ../../main.tf (module.team and
# module.contractors).

variable "user_name" {
  type = string
}

# want-user: address=module.team.aws_iam_user.deployer name=deployer
# want-user: address=module.contractors.aws_iam_user.deployer name=deployer
resource "aws_iam_user" "deployer" {
  name = "deployer"
}

# want: aws_iam_user_policy_attachment address=module.team.aws_iam_user_policy_attachment.deployer user=deployer userref=module.team.aws_iam_user.deployer policy=arn:aws:iam::aws:policy/PowerUserAccess
# want: aws_iam_user_policy_attachment address=module.contractors.aws_iam_user_policy_attachment.deployer user=deployer userref=module.contractors.aws_iam_user.deployer policy=arn:aws:iam::aws:policy/PowerUserAccess
resource "aws_iam_user_policy_attachment" "deployer" {
  user       = aws_iam_user.deployer.name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}

# want: aws_iam_user_policy address=module.team.aws_iam_user_policy.input userref=module.team.var.user_name policy=input note="the user is decided by var.user_name (an input of module.team)"
# want: aws_iam_user_policy address=module.contractors.aws_iam_user_policy.input userref=module.contractors.var.user_name policy=input note="the user is decided by var.user_name (an input of module.contractors)"
resource "aws_iam_user_policy" "input" {
  name   = "input"
  user   = var.user_name
  policy = "{}"
}
