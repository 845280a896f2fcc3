# Suppressions: `iamgroups:ignore IAM-071 <reason> [exp:YYYY-MM-DD]` directly
# above the resource or on its first line.

# iamgroups:ignore IAM-071 break-glass account, reviewed quarterly exp:2030-06-30
# want: aws_iam_user_policy_attachment user=breakglass policy=arn:aws:iam::aws:policy/AdministratorAccess suppressed="break-glass account, reviewed quarterly" exp=2030-06-30
resource "aws_iam_user_policy_attachment" "breakglass" {
  user       = "breakglass"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

// iamgroups:ignore IAM-071 vendor integration cannot assume roles
// want: aws_iam_user_policy user=vendor policy=vendor suppressed="vendor integration cannot assume roles"
resource "aws_iam_user_policy" "vendor" {
  name   = "vendor"
  user   = "vendor"
  policy = "{}"
}

/*
 * iamgroups:ignore IAM-071 legacy SFTP user exp:2026-01-31
 */
# want: aws_iam_user_policy_attachment user=sftp policy=arn:aws:iam::aws:policy/AmazonS3FullAccess suppressed="legacy SFTP user" exp=2026-01-31
resource "aws_iam_user_policy_attachment" "sftp" {
  user       = "sftp"
  policy_arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
}

# want: aws_iam_user_policy_attachment user=metrics policy=arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess suppressed="scraper, tracked in OPS-12"
resource "aws_iam_user_policy_attachment" "metrics" { # iamgroups:ignore IAM-071 scraper, tracked in OPS-12
  user       = "metrics"
  policy_arn = "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"
}

# Not suppressions: no reason, another rule, a bad expiry, a blank line.

# iamgroups:ignore IAM-071
# want: aws_iam_user_policy_attachment user=noreason policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "noreason" {
  user       = "noreason"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# iamgroups:ignore IAM-001 root keys are fine here
# want: aws_iam_user_policy_attachment user=otherrule policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "otherrule" {
  user       = "otherrule"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# iamgroups:ignore IAM-071 temporary exp:someday
# want: aws_iam_user_policy_attachment user=baddate policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "baddate" {
  user       = "baddate"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# iamgroups:ignore IAM-071 too far away

# want: aws_iam_user_policy_attachment user=faraway policy=arn:aws:iam::aws:policy/ReadOnlyAccess
resource "aws_iam_user_policy_attachment" "faraway" {
  user       = "faraway"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

# A directive inside a string is not a comment.
# want: aws_iam_user_policy user=quoted policy=quoted
resource "aws_iam_user_policy" "quoted" {
  name   = "quoted"
  user   = "quoted"
  policy = "{} # iamgroups:ignore IAM-071 not a comment"
}
