// Package sandbox is a built-in aggregated payment gateway: an http.Handler
// that speaks the same protocol as the real gateway (the four API endpoints,
// signed answers, a cashier page, payout settlement and signed result
// notifications with the gateway's retry schedule), plus switches that make it
// fail the way real gateways fail. It keeps its orders in memory.
//
// The console uses it when no gateway is configured, and every test of the
// payments client and the console runs against it as a real peer.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"paydesk/payments"
)

// Config describes the one merchant the sandbox serves and how it behaves.
type Config struct {
	MchID, AppID, Key string
	PublicURL         string       // base URL at which browsers reach the sandbox, e.g. "http://127.0.0.1:3020" (payUrl, cashier)
	TimeScale         float64      // 1 = real schedule; 0.01 = 100× faster (retry schedule, payout settle delay). 0 → 1.
	Logger            *slog.Logger // nil → discard
	HTTPClient        *http.Client // for notifications; nil → 10 s timeout client
	Faults            Faults       // initial fault switches
}

// Errors returned by Pay and Fail.
var (
	ErrUnknownOrder = errors.New("sandbox: no such pay order")
	ErrOrderFinal   = errors.New("sandbox: pay order is already paid or failed")
)

// payOrder is one pay order as the gateway holds it.
type payOrder struct {
	ID, MchOrderNo, Currency               string
	ProductID                              int
	Amount                                 int64
	ClientIP, Device, ReturnURL, NotifyURL string
	Subject, Body, Param1, Param2          string
	Status                                 int
	ChannelOrderNo                         string
	PaySuccTime                            int64 // ms
	Created                                time.Time
	chain                                  chainState
}

// transOrder is one payout (代付) order.
type transOrder struct {
	ID, MchTransOrderNo, Currency             string
	Amount                                    int64
	ClientIP, Device, NotifyURL               string
	AccountAttr, BankType, BankCode, BankName string
	AccountType, AccountName, AccountNo       string
	Province, City, Param1, Param2            string
	Status                                    int
	ChannelOrderNo, ChannelErrMsg             string
	CreateTime, TransSuccTime                 int64 // ms
	chain                                     chainState
}

// Sandbox is the gateway. Create it with New, serve it with ServeHTTP, and
// stop it with Close.
type Sandbox struct {
	cfg       Config
	log       *slog.Logger
	hc        *http.Client
	ownClient bool
	mux       *http.ServeMux
	pages     *template.Template
	publicURL string

	ctx    context.Context // done when the sandbox closes
	cancel context.CancelFunc
	wg     sync.WaitGroup // settlement and notification goroutines

	seq      atomic.Uint64 // order id sequence
	faultSeq atomic.Uint64 // FaultPercent counter

	mu         sync.Mutex
	closed     bool
	faults     Faults
	pays       map[string]*payOrder // by payOrderId
	payByNo    map[string]*payOrder // by mchOrderNo
	payList    []*payOrder          // in creation order
	trans      map[string]*transOrder
	transByNo  map[string]*transOrder
	transList  []*transOrder
	lateTrans  map[string]*transOrder // accepted payouts not landed yet (LateCreate), by merchant number
	creates    map[string]int         // accepted creates by merchant order number
	attempts   map[string][]Attempt   // by order id
	attemptLog []Attempt              // every attempt, in order, for the overview page
}

// New returns a running sandbox. Call Close to stop its timers and
// notification goroutines.
func New(cfg Config) *Sandbox {
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	s := &Sandbox{
		cfg:       cfg,
		log:       cfg.Logger,
		hc:        cfg.HTTPClient,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		faults:    cfg.Faults.clone(),
		pays:      make(map[string]*payOrder),
		payByNo:   make(map[string]*payOrder),
		trans:     make(map[string]*transOrder),
		transByNo: make(map[string]*transOrder),
		lateTrans: make(map[string]*transOrder),
		creates:   make(map[string]int),
		attempts:  make(map[string][]Attempt),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.hc == nil {
		s.hc = &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				MaxIdleConns:        100,
				MaxIdleConnsPerHost: 32,
				IdleConnTimeout:     30 * time.Second,
			},
		}
		s.ownClient = true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.seq.Store(rand.Uint64N(1_000_000))
	s.pages = parsePages()
	s.mux = s.routes()
	return s
}

func (s *Sandbox) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/pay/create_order", s.apiPayCreate)
	mux.HandleFunc("/api/pay/query_order", s.apiPayQuery)
	mux.HandleFunc("/api/trans/create_order", s.apiTransCreate)
	mux.HandleFunc("/api/trans/query_order", s.apiTransQuery)
	mux.HandleFunc("GET /sandbox", s.overview)
	mux.HandleFunc("GET /sandbox/{$}", s.overview)
	mux.HandleFunc("POST /sandbox/faults", s.faultsForm)
	mux.HandleFunc("GET /sandbox/pay/{id}", s.cashier)
	mux.HandleFunc("POST /sandbox/pay/{id}", s.cashierPost)
	mux.HandleFunc("GET /sandbox/api/faults", s.apiGetFaults)
	mux.HandleFunc("POST /sandbox/api/faults", s.apiSetFaults)
	mux.HandleFunc("GET /sandbox/api/counts", s.apiCounts)
	mux.HandleFunc("GET /sandbox/api/attempts", s.apiAttempts)
	return mux
}

// ServeHTTP answers the gateway API, the cashier and the sandbox pages.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Close stops settlement timers and notification chains and waits for them
// to finish. Requests held by Timeout or LostAnswer are dropped. It is
// idempotent.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	if !already {
		s.wg.Wait()
		if s.ownClient {
			s.hc.CloseIdleConnections()
		}
	}
	return nil
}

// goLocked starts f in a goroutine that Close waits for. The caller holds
// s.mu; it reports false when the sandbox is closed.
func (s *Sandbox) goLocked(f func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// scaled applies TimeScale to a real-world delay.
func (s *Sandbox) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.cfg.TimeScale)
}

// newID returns a gateway order id: prefix, 17 digits of time to the
// millisecond and a 6-digit sequence (23 digits in all).
func (s *Sandbox) newID(prefix string, now time.Time) string {
	n := s.seq.Add(1) % 1_000_000
	return fmt.Sprintf("%s%s%03d%06d", prefix, now.Format("20060102150405"), now.Nanosecond()/1e6, n)
}

// CreateCount is how many creates were accepted (the order stored) for this
// pay mchOrderNo or payout mchTransOrderNo. Refused duplicates are not counted.
func (s *Sandbox) CreateCount(mchOrderNo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates[mchOrderNo]
}

// Pay is the cashier's "pay" button: the order becomes paid (status 2) and
// its notification chain starts.
func (s *Sandbox) Pay(payOrderID string) error {
	return s.finishPay(payOrderID, payments.PayPaid)
}

// Fail is the cashier's "fail" button: the order becomes failed (status 5)
// and its notification chain starts.
func (s *Sandbox) Fail(payOrderID string) error {
	return s.finishPay(payOrderID, payments.PayFailed)
}

func (s *Sandbox) finishPay(id string, status int) error {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.pays[id]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownOrder, id)
	}
	if o.Status != payments.PayCreated && o.Status != payments.PayPaying {
		return fmt.Errorf("%w: %s has status %d", ErrOrderFinal, id, o.Status)
	}
	o.Status = status
	if status == payments.PayPaid {
		o.PaySuccTime = now.UnixMilli()
		o.ChannelOrderNo = "SBX" + strings.TrimPrefix(o.ID, "P")
	}
	s.startPayChainLocked(o)
	return nil
}

// Attempts returns every notification attempt made for a pay or payout
// order id, oldest first.
func (s *Sandbox) Attempts(orderID string) []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts[orderID]...)
}
