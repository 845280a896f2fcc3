// Command iacgen writes a synthetic infrastructure-as-code tree for
// bench/iac.sh: Terraform files spread over module directories, with a mix
// of users, groups and the resources that give users policies, and
// CloudFormation templates in YAML. The same flags give the same tree.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "", "directory to write the tree into (required; must not exist)")
	tf := flag.Int("tf", 10000, "number of .tf files")
	cfn := flag.Int("cfn", 1000, "number of CloudFormation templates")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*out, *tf, *cfn, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "iacgen:", err)
		os.Exit(1)
	}
}

func run(out string, nTF, nCFN int, seed uint64) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new directory", out)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range nTF {
		dir := filepath.Join(out, "terraform", fmt.Sprintf("team%02d", i%50), fmt.Sprintf("svc%03d", i/50))
		if err := write(filepath.Join(dir, fmt.Sprintf("iam%d.tf", i)), func(w *bufio.Writer) {
			fmt.Fprintf(w, "resource \"aws_iam_user\" \"u%d\" {\n  name = \"user-%d\"\n  path = \"/teams/\"\n}\n\n", i, i)
			fmt.Fprintf(w, "resource \"aws_iam_group_membership\" \"m%d\" {\n  name  = \"m%d\"\n  users = [aws_iam_user.u%d.name]\n  group = \"developers\"\n}\n\n", i, i, i)
			switch rng.IntN(4) {
			case 0:
				fmt.Fprintf(w, "resource \"aws_iam_user_policy_attachment\" \"a%d\" {\n  user       = aws_iam_user.u%d.name\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n\n", i, i)
			case 1:
				fmt.Fprintf(w, "resource \"aws_iam_user_policy\" \"p%d\" {\n  name   = \"inline-%d\"\n  user   = aws_iam_user.u%d.name\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{ Effect = \"Allow\", Action = [\"s3:GetObject\"], Resource = \"*\" }]\n  })\n}\n\n", i, i, i)
			}
			fmt.Fprintf(w, "resource \"aws_s3_bucket\" \"b%d\" {\n  bucket = \"bucket-%d\"\n  tags = {\n    team = \"team%02d\"\n  }\n}\n", i, i, i%50)
		}); err != nil {
			return err
		}
	}
	for i := range nCFN {
		if err := write(filepath.Join(out, "cloudformation", fmt.Sprintf("stack%04d.yaml", i)), func(w *bufio.Writer) {
			fmt.Fprintf(w, "AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: synthetic stack %d\nResources:\n", i)
			fmt.Fprintf(w, "  User%d:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: cfn-user-%d\n      Groups:\n        - developers\n", i, i)
			if rng.IntN(3) == 0 {
				fmt.Fprintf(w, "      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/ReadOnlyAccess\n")
			}
			if rng.IntN(3) == 0 {
				fmt.Fprintf(w, "  Inline%d:\n    Type: AWS::IAM::UserPolicy\n    Properties:\n      UserName: !Ref User%d\n      PolicyName: inline\n      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Action: s3:GetObject\n            Resource: \"*\"\n", i, i)
			}
			fmt.Fprintf(w, "  Bucket%d:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub \"cfn-bucket-%d-${AWS::AccountId}\"\n", i, i)
		}); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, fill func(*bufio.Writer)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
