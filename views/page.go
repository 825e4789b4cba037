// Package views holds Paydesk's templ components, the view models they
// take, and the formatting helpers for money and time. It knows nothing of
// the store or the gateway protocol: handlers map rows to view models.
package views

import (
	"strconv"
	"time"

	"paydesk/internal/i18n"
)

// Page is what the layout needs on every page.
type Page struct {
	Title   string
	Section string // nav section: payments, payouts, orders, notifications, settings
	User    *User  // nil when signed out
	Flash   string
	Error   string
	Sandbox bool // the console runs on the built-in sandbox gateway
	// SandboxURL links to the sandbox's own page when Sandbox is set.
	SandboxURL string
	// OpenAlerts counts unacknowledged alerts (up to 100), shown on the
	// Notifications tab.
	OpenAlerts int
	// AwaitingApproval counts the batches the user may approve now, shown
	// on the Payouts tab.
	AwaitingApproval int
	// Query is what the top bar's search box holds: the search shown.
	Query string
	// Zone is the zone the page's times are in, named once on the page:
	// a message key (Beijing time) or the zone's name.
	Zone string
}

// ZoneName is how a page names the zone loc: Beijing time for
// Asia/Shanghai (and its aliases), else the zone's own name.
func ZoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	switch loc.String() {
	case "Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC":
		return i18n.N("Beijing time")
	}
	return loc.String()
}

// AlertCount renders an open-alert count for the navigation: "99+" above 99.
func AlertCount(n int) string {
	if n > 99 {
		return "99+"
	}
	return strconv.Itoa(n)
}

// User is the signed-in user as the layout shows it.
type User struct {
	Username string
	Role     string
	IsAdmin  bool
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Section, Label, Href string
}

// Nav lists the main navigation.
func Nav() []NavItem {
	return []NavItem{
		{"payments", i18n.N("Payments"), "/payments"},
		{"payouts", i18n.N("Payouts"), "/payouts"},
		{"orders", i18n.N("Orders"), "/orders"},
		{"notifications", i18n.N("Notifications"), "/notifications"},
		{"settings", i18n.N("Settings"), "/settings"},
	}
}

// RoleName is the key of a role's name.
func RoleName(role string) string {
	switch role {
	case "viewer":
		return i18n.N("viewer")
	case "operator":
		return i18n.N("operator")
	case "approver":
		return i18n.N("approver")
	case "admin":
		return i18n.N("admin")
	}
	return role
}

// RoleText is the key of a few words on what a role may do.
func RoleText(role string) string {
	switch role {
	case "viewer":
		return i18n.N("sees everything, changes nothing")
	case "operator":
		return i18n.N("creates payments, payouts, batches and resends")
	case "approver":
		return i18n.N("also approves or rejects payout batches")
	case "admin":
		return i18n.N("also manages users, gateway accounts and settings")
	}
	return ""
}

// withoutMessages is p without its flash and error, for a page that shows
// them in its own place.
func withoutMessages(p Page) Page {
	p.Flash, p.Error = "", ""
	return p
}
