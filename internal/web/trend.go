package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamgroups/iamgroups/internal/store"
)

// The trend chart's drawing area, in SVG user units; the SVG scales to the
// width of the page.
const (
	chartW, chartH         = 760, 240
	chartLeft, chartRight  = 52, 16
	chartTop, chartBottom  = 14, 30
	seriesClasses          = 6 // distinct colours in style.css
	chartXTicks, chartYDiv = 4, 4
)

// trendChart is the failing-users-over-time chart, computed server-side
// and drawn by the overview template as inline SVG.
type trendChart struct {
	W, H   int
	Series []trendSeries
	XTicks []chartTick
	YTicks []chartTick
	// Desc summarises the chart for screen readers.
	Desc string
	// Rows are the chart's data, for the table under it.
	Rows []trendRow
	// Points counts the plotted points.
	Points int
	// Plot area, for the axes.
	X0, X1, Y0, Y1 float64
}

type trendSeries struct {
	Target string
	Class  string
	Line   string // the polyline's points attribute
	Points []chartPoint
}

type chartPoint struct {
	X, Y  string
	Label string
}

type chartTick struct {
	Pos    float64
	Label  string
	Anchor string // SVG text-anchor: the end labels stay inside the chart
}

type trendRow struct {
	RunID  int64
	At     time.Time
	Target string
	Fail   int
	Users  int
}

// newTrendChart sums the failing users of every account of a target after
// each run and lays the series out. It returns nil when there is nothing
// to draw.
func newTrendChart(points []store.TrendPoint) *trendChart {
	if len(points) == 0 {
		return nil
	}
	type runKey struct {
		target string
		run    int64
	}
	byRun := map[runKey]*trendRow{}
	var rows []*trendRow
	for _, p := range points {
		k := runKey{p.Target, p.RunID}
		r, ok := byRun[k]
		if !ok {
			r = &trendRow{RunID: p.RunID, At: p.At, Target: p.Target}
			byRun[k] = r
			rows = append(rows, r)
		}
		r.Fail += p.Fail
		r.Users += p.Users
	}
	slices.SortFunc(rows, func(a, b *trendRow) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if c := strings.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return int(a.RunID - b.RunID)
	})

	c := &trendChart{W: chartW, H: chartH,
		X0: chartLeft, X1: chartW - chartRight, Y0: chartH - chartBottom, Y1: chartTop}
	tMin, tMax := rows[0].At, rows[len(rows)-1].At
	maxFail := 0
	for _, r := range rows {
		maxFail = max(maxFail, r.Fail)
	}
	yMax := niceCeil(maxFail)
	span := tMax.Sub(tMin)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return (c.X0 + c.X1) / 2
		}
		return c.X0 + (c.X1-c.X0)*float64(t.Sub(tMin))/float64(span)
	}
	y := func(n int) float64 { return c.Y0 - (c.Y0-c.Y1)*float64(n)/float64(yMax) }

	series := map[string]*trendSeries{}
	var order []string
	for _, r := range rows {
		c.Rows = append(c.Rows, *r)
		sr, ok := series[r.Target]
		if !ok {
			sr = &trendSeries{Target: r.Target}
			series[r.Target] = sr
			order = append(order, r.Target)
		}
		px, py := fmtCoord(x(r.At)), fmtCoord(y(r.Fail))
		sr.Points = append(sr.Points, chartPoint{X: px, Y: py,
			Label: fmt.Sprintf("%s, run %d, %s: %d failing of %d users", r.Target, r.RunID, r.At.UTC().Format("2006-01-02 15:04 UTC"), r.Fail, r.Users)})
	}
	slices.Sort(order)
	for i, name := range order {
		sr := series[name]
		sr.Class = "s" + strconv.Itoa(i%seriesClasses)
		coords := make([]string, len(sr.Points))
		for j, p := range sr.Points {
			coords[j] = p.X + "," + p.Y
		}
		sr.Line = strings.Join(coords, " ")
		c.Points += len(sr.Points)
		c.Series = append(c.Series, *sr)
	}
	for i := 0; i <= chartYDiv; i++ {
		n := yMax * i / chartYDiv
		c.YTicks = append(c.YTicks, chartTick{Pos: y(n), Label: groupDigits(strconv.Itoa(n)), Anchor: "end"})
	}
	if span <= 0 {
		c.XTicks = []chartTick{{Pos: x(tMin), Label: tMin.UTC().Format("Jan 2 15:04"), Anchor: "middle"}}
	} else {
		layout := "Jan 2"
		if span < 72*time.Hour {
			layout = "Jan 2 15:04"
		}
		for i := 0; i <= chartXTicks; i++ {
			t := tMin.Add(span * time.Duration(i) / chartXTicks)
			anchor := "middle"
			switch i {
			case 0:
				anchor = "start"
			case chartXTicks:
				anchor = "end"
			}
			c.XTicks = append(c.XTicks, chartTick{Pos: x(t), Label: t.UTC().Format(layout), Anchor: anchor})
		}
	}
	first, last := rows[0], rows[len(rows)-1]
	c.Desc = fmt.Sprintf("Failing users after each of %d runs from %s to %s; most recent: %d failing (%s), highest: %d.",
		len(rows), first.At.UTC().Format("2006-01-02"), last.At.UTC().Format("2006-01-02"), last.Fail, last.Target, maxFail)
	return c
}

// niceCeil is the top of the y axis for a largest value n: the grid's
// step is the smallest "round" integer (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
// times a power of ten) that fits n in chartYDiv steps.
func niceCeil(n int) int {
	need := float64(max(n, 1)) / chartYDiv
	for p := 1.0; ; p *= 10 {
		for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8} {
			step := m * p
			if step == math.Trunc(step) && step >= need {
				return int(step) * chartYDiv
			}
		}
	}
}

func fmtCoord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
