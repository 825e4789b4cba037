package views

import (
	"fmt"
	"strconv"
)

// Element ids that htmx targets on the payout pages.
const (
	BatchProgressID = "batch-progress"
	BatchLiveID     = "batch-live"
)

// PayoutChoice is one entry of a <select> on the payout pages.
type PayoutChoice struct {
	Value, Label string
}

// BankOption is one payout bank code.
type BankOption struct {
	Code, Name string
}

// Label is how the picker shows a bank: "HPT00003 中国建设银行".
func (b BankOption) Label() string { return b.Code + " " + b.Name }

// PayoutForm is the single-payout form's view model.
type PayoutForm struct {
	AccountID   string
	Accounts    []PayoutChoice // gateway accounts; the select is shown when there are several
	Amount      string
	AccountName string
	AccountNo   string
	BankCode    string
	Branch      string
	Province    string
	City        string
	AccountType string
	AccountAttr string
	BankType    string
	Param1      string
	Param2      string
	Banks       []BankOption
	Errors      map[string]string // field name → sentence
}

// CSVColumn documents one column of the batch template.
type CSVColumn struct {
	Header, Help string
	Required     bool
}

// BatchListRow is one batch in the list.
type BatchListRow struct {
	ID        int64
	Kind      string
	FileName  string
	State     string
	Tone      string
	Outcome   string
	CreatedBy string
	Created   string
	// Rows read from the file, the payouts' total, and of them the
	// amounts that succeeded and failed ("" before any did).
	Rows       int
	Total      string
	Succeeded  string
	Failed     string
	ApprovedBy string
}

// BatchesView is the batch list with the upload form.
type BatchesView struct {
	Batches  []BatchListRow
	Accounts []PayoutChoice
	Columns  []CSVColumn
	MaxRows  string // "100,000"
	MaxMiB   int
	CanMake  bool // the user may upload batches
	Error    string
	NextURL  string
}

// IssueRow is an error or warning about one row.
type IssueRow struct {
	RowNo   int
	Message string
	Raw     string
}

// PayoutRow is one payout in a table.
type PayoutRow struct {
	ID          int64
	RowNo       int
	BatchID     int64
	MchNo       string
	GatewayID   string
	AccountName string
	AccountNo   string
	Bank        string
	Amount      string
	State       string
	Tone        string
	Error       string
	Warning     string // the row's warning, marked in a batch's table
	Created     string
}

// CountRow is how many payouts of a batch are in one condition.
type CountRow struct {
	Label string
	Tone  string
	Count int
	Sum   string
}

// ProgressView is the live part of an approved batch's page.
type ProgressView struct {
	BatchID  int64
	Total    int
	Done     int // final: succeeded, failed or refused
	OK, Err  int
	Counts   []CountRow
	Outcome  string // "", succeeded, partially succeeded, failed
	Tone     string
	Finished bool
	CanRetry bool
	Failed   int    // the failed payouts a retry takes
	RetryOut string // which failed payouts a retry leaves out, and why
}

// Bar widths in per mille, for the SVG progress bar (no inline styles).
func (p ProgressView) okWidth() string  { return permille(p.OK, p.Total) }
func (p ProgressView) errWidth() string { return permille(p.Err, p.Total) }
func (p ProgressView) errX() string     { return permille(p.OK, p.Total) }

func permille(n, total int) string {
	if total <= 0 {
		return "0"
	}
	return strconv.Itoa(n * 1000 / total)
}

// BatchView is one batch's page.
type BatchView struct {
	// ConfirmWarnings, above zero, is the number of rows with warnings an
	// approver must say they checked (desk.BatchActions.ConfirmWarnings).
	ConfirmWarnings int
	ID              int64
	Kind            string
	RetryOf         int64
	FileName        string
	Encoding        string
	ReadAs          string // the first payees' names as read, to show a wrong encoding before approval
	State           string
	StateCode       string // the batch's stored state
	StateTone       string
	CreatedBy       string
	Created         string
	Account         string
	FileRows        int
	ErrorRows       int
	WarningRows     int
	Dropped         bool
	Count           int    // payouts in the batch that will be sent
	Sum             string // their total: ¥1,234.50
	SumCapitals     string // their total in Chinese capitals (大写)
	Errors          []IssueRow
	MoreErrors      int
	Warnings        []IssueRow
	MoreWarns       int
	Rows            []PayoutRow
	Page            int
	Pages           int
	PrevURL         string
	NextURL         string

	CanEdit      bool   // draft and the user may change it
	SendBlocked  string // why it cannot be sent yet
	ControlCount string
	ControlSum   string
	FormError    string

	TwoPersonOff bool
	NeedsSecond  bool
	Expires      string
	SentBy       string
	Sent         string
	ApprovedBy   string
	Approved     string
	ApprovalNote string
	SecondBy     string
	RejectedBy   string
	RejectReason string
	CanApprove   bool
	ApproveNote  string // why the user cannot approve, shown instead of the form
	StepUp       string // the step-up limit when approving asks for the password or a code again
	StepUpCode   bool   // the approver may type a two-factor code instead of the password
	Progress     *ProgressView
	// Repairs: the rows with errors as CSV, the results as CSV (also on
	// the progress card), copying into a new draft and why not.
	ErrorsCSV  bool
	ResultsCSV bool
	CanCopy    bool
	CopyNote   string
	History    []TimelineEntry // every transition, from the audit log
}

// onPage says whether the row numbered rowNo is in the table shown.
func (v BatchView) onPage(rowNo int) bool {
	for _, r := range v.Rows {
		if r.RowNo == rowNo {
			return true
		}
	}
	return false
}

// livePollURL is where the live part of the page refreshes from; running=1
// tells the server that the page still shows the batch as running.
func (v BatchView) livePollURL() string {
	return fmt.Sprintf("/payouts/batches/%d/progress?page=%d&running=1", v.ID, v.Page)
}

// PayoutDetail is one payout's page.
type PayoutDetail struct {
	Row            PayoutRow
	Amount         string
	AmountCapitals string // in Chinese capitals (大写)
	BankCode       string
	BankName       string
	Province       string
	City           string
	AccountType    string
	AccountAttr    string
	BankType       string
	Param1         string
	Param2         string
	Status         string
	Attempts       int
	Succeeded      string
	Timeline       []TimelineEntry
	TimelinePoll   string // set while something is still expected: the fragment the page polls
}

// PayoutsView is the payouts list.
type PayoutsView struct {
	Rows    []PayoutRow
	NextURL string // the next (older) page
	// The filter as typed (the form's values), what is wrong with it, and
	// the choices of the status filter.
	Filter   PayoutFilterForm
	Errors   []string
	Statuses []Choice
	NewerURL string // the previous page; "" on the first
	FirstURL string
	CSVURL   string // the same selection as CSV
	Banks    []BankOption
	Filtered bool // some filter is set
}

// PayoutFilterForm is the payouts list's filter as typed.
type PayoutFilterForm struct {
	Status, Batch, Account, From, To, Name, Bank, AccountNo, Min, Max string
}

// More says whether a filter folded under "more filters" is set, so
// that the fold opens on it.
func (f PayoutFilterForm) More() bool {
	return f.Bank != "" || f.AccountNo != "" || f.From != "" || f.To != "" || f.Min != "" || f.Max != ""
}

// PayoutSettingsForm is the payout settings page's view model.
type PayoutSettingsForm struct {
	TwoPerson   bool
	SecondLimit string // yuan; empty: no limit
	ExpiryDays  string
	Errors      map[string]string
}

// Count renders a whole number with thousands separators: 100,000.
func Count(n int) string {
	s := strconv.Itoa(n)
	start := 0
	if n < 0 {
		start = 1
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if i > start && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
