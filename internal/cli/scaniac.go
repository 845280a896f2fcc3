package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamgroups/iamgroups/internal/iac"
	"github.com/iamgroups/iamgroups/internal/iac/cloudformation"
	"github.com/iamgroups/iamgroups/internal/iac/terraform"
	"github.com/iamgroups/iamgroups/internal/report"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// scanOptions are the flags of `iamgroups scan-iac`.
type scanOptions struct {
	Format string
	Output string
	FailOn string
	now    func() time.Time
}

func newScanIaCCommand(s streams) *cobra.Command {
	opts := scanOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "scan-iac PATH...",
		Short: "Find Terraform and CloudFormation that give IAM users policies directly",
		Long: "scan-iac reads Terraform (.tf, .tf.json, `terraform show -json` plans) and CloudFormation\n" +
			"(JSON and YAML templates, CDK output) under each PATH and reports every resource that\n" +
			"gives an IAM user a policy: aws_iam_user_policy, aws_iam_user_policy_attachment,\n" +
			"aws_iam_policy_attachment with users, the *_exclusive user resources; AWS::IAM::User\n" +
			"Policies and ManagedPolicyArns, AWS::IAM::Policy and ManagedPolicy Users,\n" +
			"AWS::IAM::UserPolicy. Suppress one with `# iamgroups:ignore IAM-071 <reason>\n" +
			"[exp:YYYY-MM-DD]` above a Terraform resource, or Metadata in CloudFormation.\n" +
			"Exit codes as for audit; a file that cannot be parsed is an ERROR result (exit 3).",
		Example: "  iamgroups scan-iac ./infra\n" +
			"  iamgroups scan-iac ./infra cdk.out --format sarif --output iamgroups.sarif\n" +
			"  terraform show -json plan.out > plan.json && iamgroups scan-iac plan.json",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScanIaC(cmd.Context(), args, opts, s)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "table", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to `FILE` (atomically) instead of standard output")
	f.StringVar(&opts.FailOn, "fail-on", "fail", "fail: exit 1 on any FAIL and 3 on unreadable files; none: report only, exit 0")
	return cmd
}

func runScanIaC(ctx context.Context, paths []string, opts scanOptions, s streams) error {
	w, err := reportWriter(opts.FailOn, opts.Format, opts.Output, s.out)
	if err != nil {
		return err
	}
	if err := checkOutputNotInput(opts.Output, paths); err != nil {
		return usageError(err)
	}
	scan, err := scanPaths(ctx, paths)
	if err != nil {
		return err
	}
	acct := scan.Account("iac")
	results := rule.IAM071.Check(acct)
	now := opts.now()
	warnings := scan.Suppress(results, now)
	rule.Sort(results)
	rep := &report.Report{GeneratedAt: now.UTC(), ToolVersion: Version(), Results: results, Summary: rule.Summarize(results),
		Warnings: warnings, Accounts: []report.AccountInfo{{Source: acct.Source, Summary: rule.Summarize(results)}}}
	rep.Partial = rep.Summary.Error > 0
	rep.Footer = fmt.Sprintf("Scanned %d files.", scan.Files)
	if err := writeReport(opts.Output, s.out, w, rep); err != nil {
		return err
	}
	if opts.Format == "csv" || opts.Format == "sarif" && opts.Output == "" {
		for _, w := range warnings {
			fmt.Fprintln(s.err, "warning:", w)
		}
	}
	return outcome(opts.FailOn, rep)
}

// scanPaths scans files and directory trees: Terraform by its adapter
// (which follows modules), CloudFormation template by template.
func scanPaths(ctx context.Context, paths []string) (*iac.Scan, error) {
	var scans []*iac.Scan
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, usageError(fmt.Errorf("%s: %v", p, err))
		}
		if !fi.IsDir() {
			sc, err := scanFile(p)
			if err != nil {
				return nil, err
			}
			scans = append(scans, sc)
			continue
		}
		tf, err := terraform.ScanDir(p)
		if err != nil {
			return nil, usageError(err)
		}
		scans = append(scans, tf)
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if !cloudformation.IsCandidate(path) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				scans = append(scans, &iac.Scan{Errors: []iac.FileError{{File: path, Msg: err.Error()}}})
				return nil
			}
			sc, err := cloudformation.ScanFile(path, data)
			if err != nil {
				return err
			}
			scans = append(scans, sc)
			return nil
		})
		if err != nil {
			return nil, usageError(fmt.Errorf("scan %s: %w", p, err))
		}
	}
	return iac.Merge(scans...), nil
}

// scanFile scans one file given on the command line.
func scanFile(path string) (*iac.Scan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", path, err))
	}
	if strings.HasSuffix(path, ".tf") || strings.HasSuffix(path, ".tf.json") {
		return terraform.ScanFile(path, data)
	}
	if strings.HasSuffix(path, ".json") {
		// A Terraform plan, or a template.
		if sc, err := terraform.ScanFile(path, data); err != nil || sc.Files > 0 {
			return sc, err
		}
	}
	sc, err := cloudformation.ScanFile(path, data)
	if err == nil && sc.Files == 0 {
		return nil, usageError(fmt.Errorf("%s: not a Terraform file (.tf, .tf.json), a Terraform plan (terraform show -json) or a CloudFormation template", path))
	}
	return sc, err
}
