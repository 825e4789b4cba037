package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"paydesk/store"
)

// passwordSignIn is a username and password that checkSignIn found right.
type passwordSignIn struct {
	User store.User
	// Refused is how many sign-ins were refused while throttled, on this
	// username or address, since the last attempt that was let through: for
	// the audit row of this one.
	Refused int
}

// errWrongPassword answers every sign-in whose name, password or account
// state is not right, with one sentence whatever the reason.
var errWrongPassword = errStatus(http.StatusUnprocessableEntity, "Wrong username or password.")

// checkSignIn checks a username and password for sign-in, throttled per
// username and per client address and within the bound on concurrent
// password hashing. A refusal is an *httpError whose sentence does not tell
// whether the username exists; each failure is audited, except refusals
// while throttled, which are audited once per throttling episode.
func (s *Server) checkSignIn(ctx context.Context, username, password, addr string) (passwordSignIn, error) {
	audit := func(detail string) error {
		return s.db.Audit(ctx, store.AuditEntry{Actor: username, Action: "auth.login_failed", Subject: "user:" + username, Detail: detail, ClientAddr: addr})
	}
	uKey, aKey := userThrottleKey(username), addrThrottleKey(addr)
	at := s.throttle.reserve(uKey, aKey)
	if at.wait > 0 {
		if at.episode {
			why := "too many failed sign-ins"
			if at.inFlight {
				why = "too many sign-ins checked at once"
			}
			if err := audit(fmt.Sprintf("refused: %s; throttled for %s; further refusals are counted on the next attempt", why, waitText(at.wait))); err != nil {
				return passwordSignIn{}, err
			}
		}
		if at.inFlight {
			return passwordSignIn{}, errStatus(http.StatusTooManyRequests, "Too many sign-ins for this name or from this address are being checked at once. Try again in %s.", waitText(at.wait))
		}
		return passwordSignIn{}, errStatus(http.StatusTooManyRequests, "Too many failed sign-ins. Try again in %s.", waitText(at.wait))
	}
	u, err := s.db.UserByName(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.throttle.release(uKey, aKey)
		return passwordSignIn{}, err
	}
	known := err == nil
	hash := u.PasswordHash
	if !known {
		hash = dummyHash
	}
	// The hash is always checked, so that unknown names cost the same time.
	good, err := s.hasher.check(ctx, hash, password)
	if err != nil {
		// Nothing was checked: the attempt does not count.
		s.throttle.release(uKey, aKey)
		if errors.Is(err, errHashBusy) {
			return passwordSignIn{}, errBusy
		}
		return passwordSignIn{}, err
	}
	good = good && len(password) <= maxPassword
	if !known || !good || u.Disabled {
		detail := "wrong password"
		switch {
		case !known:
			detail = "no such user"
		case good && u.Disabled:
			detail = "account disabled"
		}
		s.throttle.failed(uKey, aKey)
		if err := audit(detail + refusedNote(at.refused)); err != nil {
			return passwordSignIn{}, err
		}
		return passwordSignIn{}, errWrongPassword
	}
	s.throttle.succeed(uKey, aKey)
	return passwordSignIn{User: u, Refused: at.refused}, nil
}

// refusedNote is added to the audit row of the first attempt let through
// after a throttling episode.
func refusedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d sign-ins refused while throttled before this one", n)
}
