package views

import (
	"strconv"
	"unicode/utf8"
)

// Chart is a horizontal bar chart drawn on the server as inline SVG: no
// script, nothing fetched. The numbers are also in a table beside it, so
// the chart only has to show proportions.
type Chart struct {
	Title string // the chart's <title> and aria-label
	Bars  []Bar
	// Max is the value of a full bar; 0 scales to the largest bar.
	Max int64
}

// Bar is one bar: its label, its value in any unit (fen, per mille,
// milliseconds) and that value as staff read it.
type Bar struct {
	Label string
	Value int64
	Text  string
}

// The chart's geometry, in the units of its viewBox. The width is about
// a phone's column, so that the text keeps its size there.
const (
	chartWidth    = 340
	chartRow      = 26
	chartBarH     = 16
	chartBarX     = 104
	chartBarMax   = 130
	chartLabelMax = 8 // runes of a label; the table beside has it whole
)

// chartBar is a bar placed.
type chartBar struct {
	Label, Text        string
	Y, TextY, W, TextX string
}

func (c Chart) height() string { return strconv.Itoa(max(1, len(c.Bars))*chartRow + 4) }

func (c Chart) viewBox() string { return "0 0 " + strconv.Itoa(chartWidth) + " " + c.height() }

// placed lays the bars out.
func (c Chart) placed() []chartBar {
	top := c.Max
	if top <= 0 {
		for _, b := range c.Bars {
			top = max(top, b.Value)
		}
	}
	out := make([]chartBar, 0, len(c.Bars))
	for i, b := range c.Bars {
		w := 0
		if top > 0 && b.Value > 0 {
			w = int(min(b.Value, top) * chartBarMax / top)
			w = max(w, 2) // a value above zero stays visible
		}
		y := i*chartRow + 4
		out = append(out, chartBar{
			Label: shorten(b.Label, chartLabelMax), Text: b.Text,
			Y: strconv.Itoa(y), TextY: strconv.Itoa(y + chartBarH - 3),
			W: strconv.Itoa(w), TextX: strconv.Itoa(chartBarX + w + 4),
		})
	}
	return out
}

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
