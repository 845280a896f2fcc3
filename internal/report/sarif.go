package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/iamgroups/iamgroups/internal/model"
	"github.com/iamgroups/iamgroups/internal/rule"
)

// sarifWriter writes SARIF 2.1.0 for code-scanning tools: one result per
// resource that gives a user a policy (per direct policy for live data),
// with its physical location (file and start line) and a logical location
// naming the resource address; exempt ones carry a suppression; files
// that could not be read are tool notifications.
type sarifWriter struct{}

type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		Help                 sarifText      `json:"help"`
		DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
		Properties           map[string]any `json:"properties"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifLogical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind,omitempty"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification,omitempty"`
	}
)

// sarifLevel maps a rule's risk to a SARIF level.
func sarifLevel(r rule.Risk) string {
	switch r {
	case rule.Low:
		return "note"
	case rule.High, rule.VeryHigh:
		return "error"
	}
	return "warning"
}

func sarifRules() []sarifRule {
	var out []sarifRule
	for _, r := range rule.Registry {
		tags := []string{"security", "iam", "aws"}
		for _, a := range r.Aliases {
			tags = append(tags, a.Framework+" "+a.Control)
		}
		out = append(out, sarifRule{
			ID: r.ID, Name: pascal(r.Title),
			ShortDescription:     sarifText{r.Title},
			FullDescription:      sarifText{r.Summary},
			Help:                 sarifText{r.Rationale + "\n\nHow to fix: " + r.Remediation},
			DefaultConfiguration: sarifConfig{sarifLevel(r.Risk)},
			Properties:           map[string]any{"tags": tags, "risk": string(r.Risk), "security-severity": "5.0"},
		})
	}
	return out
}

func ruleIndex(id string) int {
	for i, r := range rule.Registry {
		if r.ID == id {
			return i
		}
	}
	return 0
}

// sarifURI turns a file path into a relative URI with forward slashes.
func sarifURI(path string) string {
	return filepath.ToSlash(filepath.Clean(path))
}

func sarifLoc(l *model.Location, fallback string) sarifLocation {
	var loc sarifLocation
	if l != nil && l.File != "" {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: sarifURI(l.File)}}
		if l.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: l.Line, StartColumn: max(l.Column, 1)}
		}
	}
	name := fallback
	if l != nil && l.Address != "" {
		name = l.Address
	}
	if name != "" {
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: name, Kind: "resource"}}
	}
	return loc
}

func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func (sarifWriter) Write(w io.Writer, r *Report) error {
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "iamgroups", InformationURI: "https://github.com/iamgroups/iamgroups", Version: r.ToolVersion, Rules: sarifRules()}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     []sarifResult{},
	}
	inv := &run.Invocations[0]
	for _, w := range r.Warnings {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "warning", Message: sarifText{w}})
	}
	for i := range r.Results {
		res := &r.Results[i]
		switch res.Status {
		case rule.Error:
			n := sarifNotification{Level: "error", Message: sarifText{res.UserName + ": " + res.Message}}
			if res.Location != nil && res.Location.File != "" {
				n.Locations = []sarifLocation{sarifLoc(res.Location, "")}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
			inv.ExecutionSuccessful = false // some input was not evaluated
			continue
		case rule.Pass:
			continue
		}
		for _, v := range res.Violations {
			out := sarifResult{
				RuleID: res.RuleID, RuleIndex: ruleIndex(res.RuleID), Level: sarifLevel(res.Risk),
				Message:   sarifText{sarifMessage(res, v)},
				Locations: []sarifLocation{sarifLoc(v.Location, res.UserARN)},
				PartialFingerprints: map[string]string{"iamgroups/v1": fingerprint(res.RuleID, res.AccountID, res.UserARN,
					v.Kind, v.Name, locAddress(v.Location))},
			}
			e := v.Exemption
			if e == nil {
				e = res.Exemption
			}
			if e != nil && !e.Expired {
				kind := "external"
				if strings.HasPrefix(e.ID, "suppression") {
					kind = "inSource"
				}
				out.Suppressions = []sarifSuppression{{Kind: kind, Justification: e.Reason}}
			}
			run.Results = append(run.Results, out)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write SARIF: %w", err)
	}
	return nil
}

func locAddress(l *model.Location) string {
	if l == nil {
		return ""
	}
	return l.Address
}

// pascal writes a title as one PascalCase word, as SARIF rule names are.
func pascal(title string) string {
	var b strings.Builder
	for _, w := range strings.Fields(title) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func sarifMessage(res *rule.Result, v rule.Violation) string {
	msg := fmt.Sprintf("IAM user %s gets %s policy %s directly instead of through a group", res.UserName, v.Kind, v.Name)
	if v.Note != "" {
		msg += " (" + v.Note + ")"
	}
	return msg
}
