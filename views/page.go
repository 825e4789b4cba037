// Package views holds Paydesk's templ components, the view models they
// take, and the formatting helpers for money and time. It knows nothing of
// the store or the gateway protocol: handlers map rows to view models.
package views

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
		{"payments", "Payments", "/payments"},
		{"payouts", "Payouts", "/payouts"},
		{"orders", "Orders", "/orders"},
		{"notifications", "Notifications", "/notifications"},
		{"settings", "Settings", "/settings"},
	}
}

// RoleText says in a few words what a role may do.
func RoleText(role string) string {
	switch role {
	case "viewer":
		return "sees everything, changes nothing"
	case "operator":
		return "creates payments, payouts, batches and resends"
	case "approver":
		return "also approves or rejects payout batches"
	case "admin":
		return "also manages users, gateway accounts and settings"
	}
	return ""
}

// withoutMessages is p without its flash and error, for a page that shows
// them in its own place.
func withoutMessages(p Page) Page {
	p.Flash, p.Error = "", ""
	return p
}
