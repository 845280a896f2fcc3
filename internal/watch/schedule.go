package watch

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when a target is scanned next.
type Schedule interface {
	// Next returns the first scan time after t.
	Next(t time.Time) time.Time
	// String describes the schedule for people: "every 6h",
	// "cron 0 */6 * * *".
	String() string
}

// interval is a schedule of a fixed period.
type interval struct {
	every time.Duration
	text  string // as written in the config
}

func (s interval) Next(t time.Time) time.Time { return t.Add(s.every) }
func (s interval) String() string             { return "every " + s.text }

// cronSchedule is a 5-field cron expression.
type cronSchedule struct {
	sched cron.Schedule
	text  string
}

func (s cronSchedule) Next(t time.Time) time.Time { return s.sched.Next(t) }
func (s cronSchedule) String() string             { return "cron " + s.text }

// ParseEvery parses an interval schedule: a Go duration of at least min.
func ParseEvery(text string, min time.Duration) (Schedule, error) {
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("%q is not a duration; write one such as 30m, 6h or 24h (units: s, m, h)", text)
	}
	if d < min {
		return nil, fmt.Errorf("%s is shorter than the minimum %s; scan less often, or use cron for fixed times", d, min)
	}
	return interval{every: d, text: strings.TrimSpace(text)}, nil
}

// ParseCron parses a standard 5-field cron expression (minute, hour, day
// of month, month, day of week), optionally prefixed with CRON_TZ=Zone,
// or a descriptor such as @daily. Times are local to the server unless
// CRON_TZ says otherwise.
func ParseCron(text string) (_ Schedule, err error) {
	text = strings.TrimSpace(text)
	spec := text
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// The library slices up to the first space without checking
		// that there is one.
		_, rest, ok := strings.Cut(spec, " ")
		if !ok || strings.TrimSpace(rest) == "" {
			return nil, fmt.Errorf("%q has a time zone but no schedule; write it as \"CRON_TZ=Europe/Paris 0 6 * * *\"", text)
		}
		spec = strings.TrimSpace(rest)
	}
	if strings.HasPrefix(spec, "@every") {
		return nil, errors.New("@every is an interval; write it with the key every (such as every: 6h) instead of cron")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%q is not a cron expression", text)
		}
	}()
	s, err := cron.ParseStandard(text)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron expression (%v); write five fields: minute hour day-of-month month day-of-week, such as \"0 */6 * * *\"", text, err)
	}
	return cronSchedule{sched: s, text: text}, nil
}
