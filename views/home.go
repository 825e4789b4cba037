package views

import (
	"context"
	"fmt"
	"time"

	"paydesk/internal/i18n"
)

// HomeView is the start page: where the user's work waits, and how money
// moved today, in 7 and in 30 days.
type HomeView struct {
	CanApprove bool // the user's role approves batches
	AwaitingMe HomeBatches
	SentBack   HomeBatches
	Unclear    int
	OpenAlerts int
	// RejectedCallbacks: rejected in the last 24 hours, by reason.
	RejectedCallbacks     []ReasonRow
	RejectedCallbacksAll  int
	RejectedCallbacksLink string
	Periods               []HomePeriodView // today, 7 days, 30 days
	Shown                 HomePeriodView   // the period whose rates are shown
}

// HomeBatches is a list of batches on the home page with its count and total.
type HomeBatches struct {
	Count   int
	Sum     string
	Batches []HomeBatchRow
}

// HomeBatchRow is one batch on the home page.
type HomeBatchRow struct {
	ID          int64
	FileName    string
	Count       int
	Sum         string
	By          string // maker (awaiting) or who rejected it (sent back)
	When        string
	Note        string // the reason it was sent back
	Expired     bool
	Warnings    int
	NeedsSecond bool
}

// ReasonRow is how many callbacks were rejected for one reason.
type ReasonRow struct {
	Name   string // in business words
	Reason string // as recorded: the technical detail
	Count  int
}

// HomePeriodView is one period's money and outcomes.
type HomePeriodView struct {
	Days                     int
	Name                     string // message key: Today, Last 7 days…
	Collected, PaidOut, Fees string
	CollectedFen, PaidOutFen int64
	FeesFen                  int64
	CollectedCount           int
	PaidOutCount, FeesCount  int
	Products, Banks          []RateRow
	DelayP50, DelayP95       time.Duration
	DelayCount               int
}

// RateRow is a success rate.
type RateRow struct {
	Label             string
	Successes, Finals int
	PerMille          int
}

// Percent is a per-mille rate as a percentage with one decimal: 97.5%.
func Percent(perMille int) string {
	return fmt.Sprintf("%d.%d%%", perMille/10, perMille%10)
}

// PeriodName is the key of the name of a period of days.
func PeriodName(days int) string {
	switch days {
	case 1:
		return i18n.N("Today")
	case 7:
		return i18n.N("Last 7 days")
	}
	return i18n.N("Last 30 days")
}

// delayText prints a callback delay: milliseconds below a second, then
// seconds with two decimals, then minutes and seconds.
func delayText(p *i18n.Printer, d time.Duration) string {
	ms := d.Milliseconds()
	switch {
	case ms < 1000:
		return p.T("%d ms", ms)
	case ms < 60000:
		return p.T("%s s", fmt.Sprintf("%d.%02d", ms/1000, ms%1000/10))
	}
	return p.T("%d min %d s", ms/60000, ms%60000/1000)
}

// printer is the page's printer.
func printer(ctx context.Context) *i18n.Printer { return i18n.FromContext(ctx) }

// moneyChart compares a period's money in, out and its fees.
func moneyChart(ctx context.Context, pv HomePeriodView) Chart {
	return Chart{
		Title: t(ctx, "Collected, paid out and fees: %s", t(ctx, pv.Name)),
		Bars: []Bar{
			{Label: t(ctx, "Collected"), Value: pv.CollectedFen, Text: pv.Collected},
			{Label: t(ctx, "Paid out"), Value: pv.PaidOutFen, Text: pv.PaidOut},
			{Label: t(ctx, "Fees"), Value: pv.FeesFen, Text: pv.Fees},
		},
	}
}

// chartRates is how many rates a chart draws; its table lists them all.
const chartRates = 8

// rateChart draws success rates against 100%.
func rateChart(title string, rows []RateRow) Chart {
	c := Chart{Title: title, Max: 1000}
	for _, r := range rows[:min(len(rows), chartRates)] {
		c.Bars = append(c.Bars, Bar{Label: r.Label, Value: int64(r.PerMille), Text: Percent(r.PerMille)})
	}
	return c
}

// delayChart draws the callback delay's median and 95th percentile.
func delayChart(ctx context.Context, pv HomePeriodView) Chart {
	p := printer(ctx)
	return Chart{
		Title: t(ctx, "Callback delay: %s", t(ctx, pv.Name)),
		Bars: []Bar{
			{Label: "p50", Value: pv.DelayP50.Milliseconds(), Text: delayText(p, pv.DelayP50)},
			{Label: "p95", Value: pv.DelayP95.Milliseconds(), Text: delayText(p, pv.DelayP95)},
		},
	}
}
