package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Schema identifies the JSON format's documents.
const Schema = "iamgroups.notification/v1"

// Bounds on the users listed in one message; the rest are counted. A
// Slack message is read by people; a JSON one by programs, which can ask
// the API for everything.
const (
	maxSlackUsers = 20
	maxJSONUsers  = 100
)

// Render encodes e in the format f.
func Render(f Format, e Event) ([]byte, error) {
	var v any
	switch f {
	case FormatSlack:
		v = slackMessage{Text: Text(e, maxSlackUsers, slackEscape)}
	case FormatJSON:
		v = jsonMessage(e)
	default:
		return nil, fmt.Errorf("render notification: unknown format %q", f)
	}
	// Names are shown as they are: receivers are not HTML pages.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render notification: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

type slackMessage struct {
	Text string `json:"text"`
}

// jsonEvent is the JSON format's document.
type jsonEvent struct {
	Schema   string        `json:"schema"`
	Event    Kind          `json:"event"`
	Target   string        `json:"target"`
	RunID    int64         `json:"run_id"`
	At       time.Time     `json:"at"`
	Count    int           `json:"count"`
	Findings []jsonFinding `json:"findings"`
	// Omitted counts the findings beyond the listed ones.
	Omitted int    `json:"omitted"`
	Error   string `json:"error,omitempty"`
	Text    string `json:"text"`
}

type jsonFinding struct {
	AccountID string   `json:"account_id"`
	UserName  string   `json:"user_name"`
	UserARN   string   `json:"user_arn"`
	Policies  []string `json:"policies,omitempty"`
	Reopened  bool     `json:"reopened,omitempty"`
}

func jsonMessage(e Event) jsonEvent {
	m := jsonEvent{Schema: Schema, Event: e.Kind, Target: e.Target, RunID: e.RunID, At: e.At.UTC(),
		Count: len(e.Findings), Findings: []jsonFinding{}, Error: e.Error, Text: Text(e, 0, nil)}
	for i, f := range e.Findings {
		if i == maxJSONUsers {
			m.Omitted = len(e.Findings) - i
			break
		}
		m.Findings = append(m.Findings, jsonFinding(f))
	}
	return m
}

// Text is the human-readable message of e: a headline, then up to
// maxUsers users, one a line (0: the headline only). escape, when not nil,
// escapes the values taken from the event.
func Text(e Event, maxUsers int, escape func(string) string) string {
	if escape == nil {
		escape = func(s string) string { return s }
	}
	target := escape(e.Target)
	var b strings.Builder
	n := len(e.Findings)
	switch e.Kind {
	case KindNew:
		fmt.Fprintf(&b, "iamgroups: %d new %s in %s (run %d): %s directly", n, plural(n, "finding", "findings"), target, e.RunID,
			plural(n, "a user holds a policy", "users hold policies"))
	case KindResolved:
		fmt.Fprintf(&b, "iamgroups: %d %s resolved in %s (run %d): %s directly", n, plural(n, "finding", "findings"), target, e.RunID,
			plural(n, "a user no longer holds policies", "users no longer hold policies"))
	case KindFailed:
		fmt.Fprintf(&b, "iamgroups: the scan of %s failed (run %d): %s", target, e.RunID, escape(e.Error))
	default:
		fmt.Fprintf(&b, "iamgroups: %s event in %s (run %d)", escape(string(e.Kind)), target, e.RunID)
	}
	if maxUsers <= 0 {
		return b.String()
	}
	for i, f := range e.Findings {
		if i == maxUsers {
			fmt.Fprintf(&b, "\nand %d more", n-i)
			break
		}
		fmt.Fprintf(&b, "\n• %s (account %s)", escape(f.UserName), escape(f.AccountID))
		if len(f.Policies) > 0 {
			b.WriteString(": " + escape(strings.Join(f.Policies, ", ")))
		}
		if f.Reopened {
			b.WriteString(" (again, after being resolved)")
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// slackEscape escapes the three characters Slack's mrkdwn reserves, so
// that a user or policy name cannot form a link or a mention.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
