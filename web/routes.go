package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"

	"paydesk/store"
)

// access is the least a visitor must be to use a route.
type access int

const (
	public   access = iota // no sign-in
	viewer                 // any signed-in user
	operator               // creates payments, payouts, batches, resends
	approver               // approves or rejects payout batches
	admin                  // users, gateway accounts, settings, audit log
)

func (a access) String() string {
	return [...]string{"public", "viewer", "operator", "approver", "admin"}[a]
}

// roleAccess maps a stored role to its access level. Roles are ordered: each
// may do what the ones below it may.
func roleAccess(role string) access {
	switch role {
	case store.RoleViewer:
		return viewer
	case store.RoleOperator:
		return operator
	case store.RoleApprover:
		return approver
	case store.RoleAdmin:
		return admin
	}
	return public
}

// route is one entry of the console's routing table.
type route struct {
	method  string
	pattern string
	least   access
	h       handlerFunc
}

// routes is every route of the console, with the least role it needs.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/login", public, s.loginPage},
		{"POST", "/login", public, s.login},
		{"POST", "/logout", viewer, s.logout},
		{"GET", "/", viewer, s.home},
		{"GET", "/account", viewer, s.accountPage},
		{"GET", "/account/password", viewer, s.passwordPage},
		{"POST", "/account/password", viewer, s.changePassword},
		{"POST", "/account/logout-everywhere", viewer, s.logoutEverywhere},
		{"POST", "/account/language", viewer, s.setLanguage},
		{"POST", "/settings/language", admin, s.setTeamLanguage},

		// Two-factor sign-in (twofactor.go, twofactor_account.go).
		{"GET", "/login/two-factor", public, s.loginCodePage},
		{"POST", "/login/two-factor", public, s.loginCode},
		{"GET", "/account/two-factor", viewer, s.twoFactorPage},
		{"POST", "/account/two-factor/start", viewer, s.startEnrolment},
		{"POST", "/account/two-factor/confirm", viewer, s.confirmEnrolment},
		{"POST", "/account/two-factor/cancel", viewer, s.cancelEnrolment},
		{"POST", "/account/two-factor/disable", viewer, s.disableTwoFactor},
		{"POST", "/account/two-factor/recovery-codes", viewer, s.newRecoveryCodes},
		{"GET", "/settings/users/{id}/two-factor-reset", admin, s.resetTwoFactorPage},
		{"POST", "/settings/users/{id}/two-factor-reset", admin, s.resetTwoFactor},
		{"GET", "/settings/security", admin, s.securitySettingsPage},
		{"POST", "/settings/security", admin, s.saveSecuritySettings},

		// payments and their public links
		{"GET", "/payments", viewer, s.paymentsPage},
		{"GET", "/payments.csv", viewer, s.paymentsCSV},
		{"GET", "/payments/new", operator, s.newPaymentPage},
		{"POST", "/payments", operator, s.createPayment},
		{"GET", "/payments/{id}", viewer, s.paymentPage},
		{"GET", "/payments/{id}/status", viewer, s.paymentStatus},
		{"POST", "/payments/{id}/check", operator, s.checkPaymentNow},
		{"POST", "/payments/{id}/deactivate", operator, s.deactivatePaymentLink},
		{"POST", "/payments/{id}/reactivate", operator, s.reactivatePaymentLink},
		{"GET", "/payments/{id}/qr.png", viewer, s.paymentQR("png")},
		{"GET", "/payments/{id}/qr.svg", viewer, s.paymentQR("svg")},
		{"GET", "/payments/{id}/card", viewer, s.paymentCard},
		{"GET", "/pay/{token}", public, s.publicPayPage},
		{"GET", "/pay/{token}/status", public, s.publicPayStatus},
		{"GET", "/pay/{token}/go", public, s.publicPayGo},
		{"GET", "/pay/{token}/qr.png", public, s.publicPayQR},

		// Payouts (代付): single payouts, CSV batches, approval, progress, results.
		{"GET", "/payouts", viewer, s.payoutsPage},
		{"GET", "/payouts.csv", viewer, s.payoutsCSV},
		{"GET", "/payouts/new", operator, s.newPayoutPage},
		{"POST", "/payouts/new", operator, s.createPayout},
		{"GET", "/payouts/template.csv", viewer, s.payoutTemplate},
		{"GET", "/payouts/batches", viewer, s.batchesPage},
		{"POST", "/payouts/batches", operator, s.uploadBatch},
		{"GET", "/payouts/batches/{id}", viewer, s.batchPage},
		{"GET", "/payouts/batches/{id}/progress", viewer, s.batchProgress},
		{"GET", "/payouts/batches/{id}/results.csv", viewer, s.batchResults},
		{"GET", "/payouts/batches/{id}/errors.csv", viewer, s.batchErrors},
		{"POST", "/payouts/batches/{id}/copy", operator, s.copyBatch},
		{"POST", "/payouts/batches/{id}/drop-errors", operator, s.dropBatchErrors},
		{"POST", "/payouts/batches/{id}/send", operator, s.sendBatch},
		{"POST", "/payouts/batches/{id}/cancel", operator, s.cancelBatch},
		{"POST", "/payouts/batches/{id}/approve", approver, s.approveBatch},
		{"POST", "/payouts/batches/{id}/reject", approver, s.rejectBatch},
		{"POST", "/payouts/batches/{id}/retry", operator, s.retryBatch},
		{"GET", "/payouts/{id}", viewer, s.payoutDetail},
		{"GET", "/payouts/{id}/timeline", viewer, s.payoutTimelineFragment},
		{"GET", "/settings/payouts", admin, s.payoutSettingsPage},
		{"POST", "/settings/payouts", admin, s.savePayoutSettings},

		// Gateway callbacks, orders and their timelines, lookup, notification log, alerts, resends.
		{"GET", "/notify/pay", public, s.notifyPay},
		{"POST", "/notify/pay", public, s.notifyPay},
		{"GET", "/notify/trans", public, s.notifyTrans},
		{"POST", "/notify/trans", public, s.notifyTrans},
		{"GET", "/orders", viewer, s.ordersPage},
		{"GET", "/search", viewer, s.search},
		{"POST", "/orders/lookup", operator, s.lookupOrder}, // keeps what it finds as an external order
		{"GET", "/orders/{kind}/{id}", viewer, s.orderPage},
		{"GET", "/orders/{kind}/{id}/timeline", viewer, s.orderTimeline},
		{"POST", "/orders/{kind}/{id}/query", operator, s.queryOrder},
		{"POST", "/orders/{kind}/{id}/resend", operator, s.resendOrder},
		{"POST", "/orders/resend", operator, s.bulkResend},
		{"GET", "/orders/resend/{job}", viewer, s.resendJobPage},
		{"POST", "/orders/resend/{job}/cancel", operator, s.cancelResendJob},
		{"GET", "/notifications", viewer, s.notificationsPage},
		{"GET", "/notifications/{id}", viewer, s.notificationPage},
		{"POST", "/alerts/{id}/ack", operator, s.ackAlert},

		{"GET", "/settings", admin, s.settingsPage},

		// gateway accounts
		{"GET", "/settings/gateways", admin, s.gatewaysPage},
		{"GET", "/settings/gateways/new", admin, s.gatewayNewPage},
		{"POST", "/settings/gateways", admin, s.createGateway},
		{"GET", "/settings/gateways/{id}", admin, s.gatewayEditPage},
		{"POST", "/settings/gateways/{id}", admin, s.updateGateway},
		{"POST", "/settings/gateways/{id}/disable", admin, s.disableGateway},
		{"POST", "/settings/gateways/{id}/enable", admin, s.enableGateway},
		{"POST", "/settings/gateways/{id}/test", admin, s.testGateway},
		{"POST", "/settings/payments", admin, s.setMaxPayment},
		{"POST", "/settings/notifications", admin, s.setRejectedRetention},

		// Users (admins only).
		{"GET", "/settings/users", admin, s.usersPage},
		{"POST", "/settings/users", admin, s.createUser},
		{"POST", "/settings/users/{id}/role", admin, s.setUserRole},
		{"POST", "/settings/users/{id}/disable", admin, s.disableUser},
		{"POST", "/settings/users/{id}/enable", admin, s.enableUser},
		{"POST", "/settings/users/{id}/reset", admin, s.resetPassword},

		// Audit log (admins only).
		{"GET", "/settings/audit", admin, s.auditPage},
		{"GET", "/settings/audit.csv", admin, s.auditCSV},
	}
}

// fragmentRoutes are the GET routes that answer a piece of a page for htmx
// to poll or swap in (live status, timelines, progress), not a page. They
// are never an address to return to after sign-in.
func fragmentRoutes() []string {
	return []string{
		"/payments/{id}/status",
		"/pay/{token}/status",
		"/payouts/batches/{id}/progress",
		"/payouts/{id}/timeline",
		"/orders/{kind}/{id}/timeline",
	}
}

// isFragment reports whether path is the address of a fragment route.
func (s *Server) isFragment(path string) bool {
	return s.fragments.Match(chi.NewRouteContext(), http.MethodGet, path)
}

func newFragmentMatcher() *chi.Mux {
	m := chi.NewRouter()
	for _, p := range fragmentRoutes() {
		m.Get(p, http.NotFound)
	}
	return m
}

// Handler is the console's whole HTTP handler. static holds app.css, htmx
// and the other files served under /static/.
func (s *Server) Handler(static fs.FS) http.Handler {
	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.Use(s.limitBody)
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("/notify/")
	r.Use(cop.Handler)

	// Static files need no session: serving them loads and saves none.
	r.Handle("/static/*", http.StripPrefix("/static/", staticHandler(static)))
	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave)
		r.Use(s.authenticate)
		r.Use(s.localize)
		for _, rt := range s.routes() {
			r.Method(rt.method, rt.pattern, s.require(rt.least, s.adapt(rt.h)))
		}
	})
	withSession := func(h http.HandlerFunc) http.HandlerFunc {
		return s.sessions.LoadAndSave(s.authenticate(s.localize(h))).ServeHTTP
	}
	r.NotFound(withSession(func(w http.ResponseWriter, req *http.Request) {
		s.renderError(w, req, http.StatusNotFound, errNotFound.text(req))
	}))
	r.MethodNotAllowed(withSession(func(w http.ResponseWriter, req *http.Request) {
		s.renderError(w, req, http.StatusMethodNotAllowed, tr(req).T("This address does not take that kind of request."))
	}))
	return r
}

// staticHandler serves the files of static, and answers 404 for a folder
// rather than list what it holds.
func staticHandler(static fs.FS) http.Handler {
	fsrv := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		if fi, err := fs.Stat(static, name); err != nil || fi.IsDir() {
			http.Error(w, errNotFound.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
