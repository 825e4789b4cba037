package views

// NotificationsView is the notification log with its filters and the open alerts.
type NotificationsView struct {
	Filter     NotificationFilterView
	Results    []Option
	Rows       []NotificationRow
	NextURL    string
	Alerts     []AlertRow
	CanOperate bool
	ShowAll    bool // acknowledged alerts too
}

// NotificationFilterView is the log's filter form.
type NotificationFilterView struct {
	Kind, Result, From, To, Order string
}

// NotificationRow is one inbound callback in the log.
type NotificationRow struct {
	ID         int64
	Href       string
	Received   string
	Kind       string // in words
	KindCode   string // pay, trans
	Method     string
	Client     string
	OrderLabel string
	OrderHref  string
	Status     string
	Signature  string // valid, invalid, —
	Result     string
	ResultCode string
	ResultTone string
	Reason     string
	Reply      string
}

// NotificationDetail is one callback with its raw request.
type NotificationDetail struct {
	NotificationRow
	Headers  string
	RawQuery string
	RawBody  string
	// QueryCut and BodyCut say how much of a rejected request was kept,
	// when only its start was.
	QueryCut string
	BodyCut  string
	Fields   []Fact
}

// AlertRow is one alert.
type AlertRow struct {
	ID        int64
	KindText  string
	Kind      string
	Summary   string
	Tech      string // the technical detail of what happened
	Count     int
	First     string
	Last      string
	OrderHref string
	NotifHref string
	Acked     bool
	AckedBy   string
	AckNote   string
	AckedAt   string
}
