package desk

import (
	"slices"

	"paydesk/store"
)

// Actor is who asks for an operation: a signed-in user, or the console
// itself (System) for work nobody asked for directly.
type Actor struct {
	UserID     int64
	Username   string
	Role       string // store.RoleViewer … store.RoleAdmin
	ClientAddr string // where the request came from, for the audit log and throttling
}

// System is the actor of work the console does by itself.
var System = Actor{Username: "system"}

// ActorOf is the actor for user u asking from addr.
func ActorOf(u store.User, addr string) Actor {
	return Actor{UserID: u.ID, Username: u.Username, Role: u.Role, ClientAddr: addr}
}

// AtLeast reports whether a's role may do what role may: roles are
// ordered, each allowed what the ones before it are.
func (a Actor) AtLeast(role string) bool {
	return RoleRank(a.Role) >= RoleRank(role)
}

// RoleRank orders the roles: viewer 1 … admin 4; an unknown role is 0.
func RoleRank(role string) int {
	return slices.Index(store.Roles(), role) + 1
}
