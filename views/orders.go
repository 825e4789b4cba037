package views

// Fact is one labelled value on a detail page.
type Fact struct {
	Label, Value string
	Mono         bool
	Tech         bool // a technical detail: shown under "Technical details"
}

// OrderView is the order detail page of a pay order or payout.
type OrderView struct {
	Kind       string // "pay" or "trans"
	ID         int64
	Title      string // "Pay order M100" / "Payout T-1"
	StatusText string
	StatusTone string // ok, err, warn, info
	External   bool
	RichURL    string // the payments or payouts page of a console order, or ""
	Facts      []Fact
	Timeline   []TimelineEntry
	PollURL    string // set while something is still expected
	CanOperate bool   // the user may resend and query
	// ResendWarning says why a resend may have no effect; "" when it will.
	ResendWarning string
	// ResendNote tells where the callback will go (external orders).
	ResendNote string
	QueryURL   string
	ResendURL  string
}

// OrderRow is one order in a list or search result.
type OrderRow struct {
	Kind, KindText string
	Href           string
	MchNo, GateNo  string
	Amount         string
	StatusText     string
	StatusTone     string
	Origin         string
	Created        string
}

// OrdersView is the orders page: search box, results, filtered list and
// the bulk resend form.
type OrdersView struct {
	Q          string
	Accounts   []Option
	AccountID  string
	Searched   bool
	Results    []OrderRow
	NotLocal   bool   // nothing stored matched Q: offer to ask the gateway
	LookupMsg  string // the gateway's answer when it did not know the order either
	Filter     OrderFilterView
	Rows       []OrderRow
	NextURL    string
	CanOperate bool
}

// OrderFilterView is the filter of the orders list (also the bulk resend's).
type OrderFilterView struct {
	Kind, Status, Origin, From, To string
}

// Option is one choice of a select.
type Option struct{ Value, Label string }

// ResendPreviewView asks to confirm a bulk resend.
type ResendPreviewView struct {
	Filter      OrderFilterView
	FilterText  string
	Total       int
	Eligible    int // paid pay orders and finished payouts: the gateway re-notifies these
	Ineligible  int
	Cooling     int // resent within the cooldown: skipped
	Max         int
	TooMany     bool
	CooldownTxt string
}

// ResendJobView is a bulk resend job's progress.
type ResendJobView struct {
	ID                         int64
	State                      string
	StateCode                  string
	CreatedBy, Created         string
	FilterText                 string
	Total, Done, Sent, Skipped int
	Failed                     int
	Running                    bool
	CanCancel                  bool
	PollURL                    string
	Items                      []ResendItemView
}

// ResendItemView is one order of a bulk resend.
type ResendItemView struct {
	Href, Label, Result, Detail string
}

// ResendProgressID is the element id of a resend job's progress block.
const ResendProgressID = "resend-progress"
