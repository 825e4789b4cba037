package views

// Choice is one option of a select.
type Choice struct {
	Value, Label string
}

// Element ids that htmx targets on the payment pages.
const (
	PaymentLiveID = "payment-live" // the staff page's status and timeline
	PayLinkLiveID = "paylink-live" // the public page's status
)

// PaymentForm is the new-payment form's view model.
type PaymentForm struct {
	FormToken string // one-time token: a second submission finds the first payment
	AccountID string
	Accounts  []Choice
	ProductID string
	Products  []Choice
	Amount    string
	MaxAmount string // ¥1,000,000.00, for the hint
	Subject   string
	Body      string
	Param1    string
	Param2    string
	Expiry    string // minutes, "" for none
	Expiries  []Choice
	Errors    map[string]string
}

// PaymentView is a payment's staff page.
type PaymentView struct {
	ID             int64
	MchOrderNo     string
	PayOrderID     string
	ChannelOrderNo string
	Account        string
	Product        string
	Amount         string
	Subject        string
	Body           string
	Param1         string
	Param2         string
	PayURL         string
	PayMethod      string // GET or POST ("" when no payUrl)
	LinkURL        string // the public payment link ("" for orders Paydesk did not create)
	LinkActive     bool
	// Order: the order's resend, shown on the one page of the payment.
	Order      *OrderView
	LinkNote   string // why the link is not usable, if it is not
	Expires    string
	Created    string
	CreatedBy  string
	CanOperate bool
	Live       PaymentLive
}

// PaymentLive is the part of a payment's page that refreshes itself.
type PaymentLive struct {
	ID         int64
	StatusText string
	Tone       string // badge class: ok, err, warn, info
	Note       string // a sentence about the state, e.g. why it is unknown
	PaidAt     string
	PayOrderID string
	LastError  string
	CanCheck   bool // "Check status" is offered
	Poll       bool // still waiting for something: refresh every few seconds
	// AskNow: the page was drawn from what is stored, without asking the
	// gateway; the block refreshes at once (which may ask) and then polls.
	AskNow   bool
	Timeline []TimelineEntry
}

// PaymentRow is one line of the payments list.
type PaymentRow struct {
	ID         int64
	Created    string
	MchOrderNo string
	PayOrderID string
	Account    string
	Product    string
	Amount     string
	StatusText string
	Tone       string
	Subject    string
	// LinkCancelled: the payment link was deactivated; the list marks the
	// row as cancelled.
	LinkCancelled bool
}

// PaymentList is the payments list page's view model.
type PaymentList struct {
	Number, Status, Product, Account, From, To, Min, Max string
	Statuses, Products, Accounts                         []Choice
	Rows                                                 []PaymentRow
	NewerURL, OlderURL, FirstURL, CSVURL                 string
	CanCreate                                            bool
	Errors                                               []string
}

// PayCard is the printable card of a payment link.
type PayCard struct {
	MerchantName   string
	Amount         string
	AmountCapitals string // in Chinese capitals (大写)
	Subject        string
	QRURL          string
	LinkURL        string
	Expires        string
	Zone           string // the zone Expires is in: a key or a zone name
	// Paid: the order is paid (when, in Zone): the card says so and
	// offers no QR code. Cancelled: its link was deactivated.
	Paid      string
	Cancelled bool
}

// PublicPayment is the public payment page's view model. It holds only
// what a customer may see: no ids, no notes, no order numbers.
type PublicPayment struct {
	MerchantName string
	Amount       string
	Subject      string
	Live         PublicLive
}

// PublicLive is the refreshing part of the public page.
type PublicLive struct {
	StatusURL string
	State     string // payable, paid, failed, expired, cancelled, preparing, unavailable
	Message   string // a message key
	QRURL     string // QR code of the payUrl ("" when it is not a plain URL)
	GoURL     string // where the pay button leads
	Expires   string
	Zone      string // the zone Expires is in: a key or a zone name
	Poll      bool
}

// PayRedirect is the page that takes the customer's browser to the
// gateway's cashier with a POST form.
type PayRedirect struct {
	Action string
	Fields []HiddenField
}

// HiddenField is one field of a form the customer's browser posts.
type HiddenField struct {
	Name, Value string
}
