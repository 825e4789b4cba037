package desk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"paydesk/store"
)

// Two-factor sign-in: TOTP (RFC 6238) codes of 6 digits every 30 s, as
// every authenticator app makes them, and one-time recovery codes.
const (
	totpIssuer    = "Paydesk"
	totpPeriod    = 30 // seconds per time step
	totpSkew      = 1  // steps accepted either side of now, for phones whose clock is a little off
	recoveryCodes = 10
)

// Setting: every user must sign in with a code ("1") or not.
const settingRequireTwoFactor = "auth.require_two_factor"

// codeThrottleKey counts wrong codes per user, apart from wrong passwords,
// so that a right password does not forgive guessed codes.
func codeThrottleKey(username string) string {
	return "t:" + strings.ToLower(strings.TrimSpace(username))
}

// The sealed secrets are bound to the user id, so a sealed value copied to
// another user does not open; a pending secret does not open as an active one.
func totpContext(userID int64) string        { return fmt.Sprintf("user:%d:totp", userID) }
func totpPendingContext(userID int64) string { return fmt.Sprintf("user:%d:totp-pending", userID) }

// newTOTPSecret makes a random secret of 160 bits (RFC 4226's recommended
// length), in base32 as authenticator apps take it.
func newTOTPSecret(username string) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: username, SecretSize: 20})
	if err != nil {
		return "", err
	}
	return key.Secret(), nil
}

// totpURI is the otpauth:// URI a QR code carries to an authenticator app.
func totpURI(username, secret string) (string, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: username, Secret: raw})
	if err != nil {
		return "", err
	}
	return key.URL(), nil
}

// groupSecret splits a base32 secret into groups of four for typing.
func groupSecret(secret string) string {
	var b strings.Builder
	for i, c := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// totpStep returns the time step whose code is code, among now's step and
// its neighbours, the latest first; ok is false when none matches.
func totpStep(secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(totpSkew); d >= -totpSkew; d-- {
		good, err := hotp.ValidateCustom(code, uint64(cur+d), secret, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && good {
			return cur + d, true
		}
	}
	return 0, false
}

// Recovery codes: 16 characters of Crockford's base32 alphabet (80 random
// bits), shown as four groups of four. With that much entropy a single
// SHA-256 is enough to keep them unreadable at rest: no one can try 2^80
// codes against a stolen hash, which is what argon2id's cost guards
// against for passwords people choose.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func newRecoveryCode() string {
	b := make([]byte, 16)
	rand.Read(b)
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(recoveryAlphabet[c&31])
	}
	return s.String()
}

// normalRecoveryCode is a recovery code as typed, without spaces and dashes,
// in lower case, with the letters people mistake for digits read as digits.
func normalRecoveryCode(code string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(code) {
		switch c {
		case ' ', '-', '\t':
			continue
		case 'i', 'l':
			c = '1'
		case 'o':
			c = '0'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// recoveryHash is what is stored of a recovery code: SHA-256 of the user id
// and the normalised code.
func recoveryHash(userID int64, code string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d:%s", userID, normalRecoveryCode(code))))
	return hex.EncodeToString(sum[:])
}

// makeRecoveryCodes returns fresh codes to show once and their hashes to store.
func makeRecoveryCodes(userID int64) (codes, hashes []string) {
	for range recoveryCodes {
		c := newRecoveryCode()
		codes = append(codes, c)
		hashes = append(hashes, recoveryHash(userID, c))
	}
	return codes, hashes
}

// factor is the outcome of checking a code.
type factor struct {
	ok       bool
	replayed bool // a right code whose time step was used already
	recovery bool // a recovery code was spent
	left     int  // recovery codes left, after spending one
}

// errSecretUnreadable refuses a code when the user's secret does not open.
var errSecretUnreadable = refuse(Conflict, "Your two-factor secret cannot be read with this console's master key. Ask an admin to reset your two-factor sign-in.")

// checkCode checks what u typed as their second factor: a 6-digit code of
// their authenticator (spending its time step), or, when recovery is
// allowed, one of their recovery codes (spending it).
func (d *Desk) checkCode(ctx context.Context, u store.User, typed string, recovery bool) (factor, error) {
	tf, err := d.db.TwoFactor(ctx, u.ID)
	if err != nil || !tf.On() {
		return factor{}, err
	}
	code := strings.Join(strings.Fields(truncate(typed, 64)), "")
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		secret, err := d.sealer.Open(tf.Secret, totpContext(u.ID))
		if err != nil {
			return factor{}, errSecretUnreadable
		}
		step, ok := totpStep(secret, code, d.now())
		if !ok {
			return factor{}, nil
		}
		took, err := d.db.UseTOTPStep(ctx, u.ID, tf.Secret, step)
		if err != nil {
			return factor{}, err
		}
		return factor{ok: took, replayed: !took}, nil
	}
	if !recovery || len(normalRecoveryCode(code)) != 16 {
		return factor{}, nil
	}
	ok, left, err := d.db.UseRecoveryCode(ctx, u.ID, recoveryHash(u.ID, code))
	return factor{ok: ok, recovery: ok, left: left}, err
}

// TwoFactorRequired reports whether an admin requires two-factor sign-in
// for everyone.
func (d *Desk) TwoFactorRequired(ctx context.Context) (bool, error) {
	v, err := d.db.Setting(ctx, settingRequireTwoFactor, "0")
	return v == "1", err
}

// MustEnrol reports whether u must set up two-factor sign-in before doing
// anything else: an admin requires it for everyone and u has none. When
// the setting cannot be read it says yes: closed rather than open.
func (d *Desk) MustEnrol(ctx context.Context, u store.User) bool {
	if u.TwoFactor {
		return false
	}
	required, err := d.TwoFactorRequired(ctx)
	if err != nil {
		d.log.Error("read two-factor setting", "err", err)
		return true
	}
	return required
}

// auditThrottled writes the one audit row of a throttling episode of
// password or code attempts: at.episode marks the first refusal since the
// wait began; later refusals are only counted.
func (d *Desk) auditThrottled(ctx context.Context, u store.User, at throttleAttempt, addr string) error {
	if !at.episode {
		return nil
	}
	return d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.two_factor_failed", Subject: "user:" + u.Username,
		Detail: "refused: too many wrong passwords or codes; throttled for " + waitText(at.wait).String() + "; further refusals are not audited", ClientAddr: addr})
}

// codeRefused ends an attempt reserved on key and the address as a failure,
// and audits it.
func (d *Desk) codeRefused(ctx context.Context, a Actor, key, detail string) error {
	d.throttle.failed(key, addrThrottleKey(a.ClientAddr))
	return d.db.Audit(ctx, store.AuditEntry{Actor: a.Username, Action: "auth.two_factor_failed", Subject: "user:" + a.Username, Detail: detail, ClientAddr: a.ClientAddr})
}

// Enrolment is the state of a user's two-factor sign-in, for their page.
type Enrolment struct {
	On           bool
	Since        time.Time // when it was turned on
	RecoveryLeft int
	Required     bool // an admin requires it for everyone
	// Enrolling: a secret waits to be confirmed by a code; URI is what
	// its QR code carries, Secret the same in groups of four.
	Enrolling bool
	URI       string
	Secret    string
	// Restarted: a pending secret did not open under this master key and
	// was dropped: the user starts over.
	Restarted bool
}

// TwoFactorState is the state of a's two-factor sign-in.
func (d *Desk) TwoFactorState(ctx context.Context, a Actor) (Enrolment, error) {
	tf, err := d.db.TwoFactor(ctx, a.UserID)
	if err != nil {
		return Enrolment{}, err
	}
	e := Enrolment{On: tf.On(), RecoveryLeft: tf.RecoveryLeft}
	if e.Required, err = d.TwoFactorRequired(ctx); err != nil {
		return e, err
	}
	switch {
	case tf.On():
		e.Since = tf.EnabledAt
	case tf.Pending != nil:
		secret, err := d.sealer.Open(tf.Pending, totpPendingContext(a.UserID))
		if err != nil {
			// Sealed under another master key: the user simply starts over.
			e.Restarted = true
			return e, d.db.SetPendingTOTP(ctx, a.UserID, nil)
		}
		if e.URI, err = totpURI(a.Username, secret); err != nil {
			return e, err
		}
		e.Enrolling, e.Secret = true, groupSecret(secret)
	}
	return e, nil
}

var errTwoFactorOn = refuse(Conflict, "Two-factor sign-in is on already. To move it to another phone, turn it off and set it up again.")

// StartEnrolment makes a new secret for a and keeps it, sealed in their
// row (session data is stored unencrypted), until a code confirms it.
func (d *Desk) StartEnrolment(ctx context.Context, a Actor) error {
	u, err := d.db.UserByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	if u.TwoFactor {
		return errTwoFactorOn
	}
	secret, err := newTOTPSecret(u.Username)
	if err != nil {
		return err
	}
	err = d.db.SetPendingTOTP(ctx, u.ID, d.sealer.Seal(secret, totpPendingContext(u.ID)))
	if errors.Is(err, store.ErrConflict) {
		return errTwoFactorOn
	}
	return err
}

// CancelEnrolment forgets the secret of an enrolment not yet confirmed.
func (d *Desk) CancelEnrolment(ctx context.Context, a Actor) error {
	if err := d.db.SetPendingTOTP(ctx, a.UserID, nil); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// ConfirmEnrolment turns a's two-factor sign-in on once they type a
// current code of the pending secret, and returns the recovery codes to
// show, once.
func (d *Desk) ConfirmEnrolment(ctx context.Context, a Actor, typed string) ([]string, error) {
	tf, err := d.db.TwoFactor(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if tf.On() {
		return nil, errTwoFactorOn
	}
	if tf.Pending == nil {
		return nil, refuse(Invalid, "Choose Set up first: your authenticator app needs the QR code.")
	}
	secret, err := d.sealer.Open(tf.Pending, totpPendingContext(a.UserID))
	if err != nil {
		return nil, refuse(Invalid, "Setting up two-factor sign-in has to start over. Choose Set up again.")
	}
	code := strings.Join(strings.Fields(truncate(typed, 64)), "")
	step, ok := totpStep(secret, code, d.now())
	if !ok {
		return nil, refuse(Invalid, "That code is not right. Type the 6-digit code your authenticator app shows now for Paydesk; if it still fails, check that the phone sets its clock automatically.")
	}
	codes, hashes := makeRecoveryCodes(a.UserID)
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.EnableTwoFactorTx(ctx, tx, a.UserID, d.sealer.Seal(secret, totpContext(a.UserID)), step, hashes); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "user.two_factor_enable", Subject: "user:" + a.Username,
			Detail: fmt.Sprintf("authenticator app confirmed; %d recovery codes made", len(codes)), ClientAddr: a.ClientAddr})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, errTwoFactorOn
	}
	return codes, err
}

// DisableTwoFactor turns a's own two-factor sign-in off; it asks for the
// password and a current code (or a recovery code, for a lost phone). It
// reports whether an admin requires it for everyone (the user must then
// set it up again).
func (d *Desk) DisableTwoFactor(ctx context.Context, a Actor, password, typed string) (required bool, err error) {
	u, err := d.db.UserByID(ctx, a.UserID)
	if err != nil {
		return false, err
	}
	if !u.TwoFactor {
		return false, refuse(Conflict, "Two-factor sign-in is off already.")
	}
	uKey, tKey, aKey := userThrottleKey(u.Username), codeThrottleKey(u.Username), addrThrottleKey(a.ClientAddr)
	if at, err := d.throttle.reserve(uKey, tKey, aKey); err != nil {
		return false, err
	} else if at.wait > 0 {
		if err := d.auditThrottled(ctx, u, at, a.ClientAddr); err != nil {
			return false, err
		}
		return false, refuse(TooMany, "Too many wrong passwords or codes. Try again in %s.", waitText(at.wait))
	}
	good, err := d.hasher.check(ctx, u.PasswordHash, password)
	if err != nil {
		d.throttle.release(uKey, tKey, aKey)
		return false, err
	}
	if len(password) > maxPassword || !good {
		d.throttle.release(tKey)
		if err := d.codeRefused(ctx, a, uKey, "turning two-factor off: wrong password"); err != nil {
			return false, err
		}
		return false, refuse(Invalid, "Your password is not right. Two-factor sign-in stays on.")
	}
	f, err := d.checkCode(ctx, u, typed, true)
	if err != nil {
		d.throttle.release(uKey, tKey, aKey)
		return false, err
	}
	if !f.ok {
		d.throttle.release(uKey)
		if err := d.codeRefused(ctx, a, tKey, "turning two-factor off: wrong code"); err != nil {
			return false, err
		}
		return false, refuse(Invalid, "That code is not right (or was used already). Two-factor sign-in stays on.")
	}
	d.throttle.succeed(tKey, uKey, aKey)
	how := "password and code"
	if f.recovery {
		how = "password and recovery code"
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.DisableTwoFactorTx(ctx, tx, u.ID); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "user.two_factor_disable", Subject: "user:" + u.Username,
			Detail: "own, confirmed with " + how + "; secret and recovery codes deleted", ClientAddr: a.ClientAddr})
	})
	if err != nil {
		return false, err
	}
	required, rerr := d.TwoFactorRequired(ctx)
	return rerr == nil && required, nil
}

// NewRecoveryCodes replaces a's recovery codes, asking for a current code
// of the authenticator app; it returns the new codes to show, once.
func (d *Desk) NewRecoveryCodes(ctx context.Context, a Actor, typed string) ([]string, error) {
	u, err := d.db.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if !u.TwoFactor {
		return nil, refuse(Conflict, "Set up two-factor sign-in first; recovery codes come with it.")
	}
	tKey, aKey := codeThrottleKey(u.Username), addrThrottleKey(a.ClientAddr)
	if at, err := d.throttle.reserve(tKey, aKey); err != nil {
		return nil, err
	} else if at.wait > 0 {
		if err := d.auditThrottled(ctx, u, at, a.ClientAddr); err != nil {
			return nil, err
		}
		return nil, refuse(TooMany, "Too many wrong codes. Try again in %s.", waitText(at.wait))
	}
	f, err := d.checkCode(ctx, u, typed, false)
	if err != nil {
		d.throttle.release(tKey, aKey)
		return nil, err
	}
	if !f.ok {
		if err := d.codeRefused(ctx, a, tKey, "new recovery codes: wrong code"); err != nil {
			return nil, err
		}
		return nil, refuse(Invalid, "That code is not right (or was used already). Type the code your authenticator app shows now; your recovery codes are unchanged.")
	}
	d.throttle.succeed(tKey, aKey)
	codes, hashes := makeRecoveryCodes(u.ID)
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.ReplaceRecoveryCodesTx(ctx, tx, u.ID, hashes); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "user.two_factor_recovery_codes", Subject: "user:" + u.Username,
			Detail: fmt.Sprintf("%d new recovery codes; the old ones no longer work", len(codes)), ClientAddr: a.ClientAddr})
	})
	return codes, err
}
