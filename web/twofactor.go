package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"paydesk/store"
	"paydesk/views"
)

// Two-factor sign-in: TOTP (RFC 6238) codes of 6 digits every 30 s, as
// every authenticator app makes them, and one-time recovery codes.
const (
	totpIssuer     = "Paydesk"
	totpPeriod     = 30 // seconds per time step
	totpSkew       = 1  // steps accepted either side of now, for phones whose clock is a little off
	recoveryCodes  = 10
	secondStepTime = 5 * time.Minute // how long the code page waits after the password
)

// Session keys of a sign-in whose password was right and whose code is
// still due. The session holds no sessUserID meanwhile, so it counts as
// signed out everywhere but on the code page.
const (
	sessPendingUser  = "2fa_user"
	sessPendingGen   = "2fa_gen"   // the user's session generation when the password was checked
	sessPendingUntil = "2fa_until" // unix nanoseconds
	sessPendingNext  = "2fa_next"
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

// checkCode checks what u typed as their second factor: a 6-digit code of
// their authenticator (spending its time step), or, when recovery is
// allowed, one of their recovery codes (spending it).
func (s *Server) checkCode(ctx context.Context, u store.User, typed string, recovery bool) (factor, error) {
	tf, err := s.db.TwoFactor(ctx, u.ID)
	if err != nil || !tf.On() {
		return factor{}, err
	}
	code := strings.Join(strings.Fields(typed), "")
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		secret, err := s.sealer.Open(tf.Secret, totpContext(u.ID))
		if err != nil {
			return factor{}, errStatus(http.StatusInternalServerError, "Your two-factor secret cannot be read with this console's master key. Ask an admin to reset your two-factor sign-in.")
		}
		step, ok := totpStep(secret, code, s.now())
		if !ok {
			return factor{}, nil
		}
		took, err := s.db.UseTOTPStep(ctx, u.ID, tf.Secret, step)
		if err != nil {
			return factor{}, err
		}
		return factor{ok: took, replayed: !took}, nil
	}
	if !recovery || len(normalRecoveryCode(code)) != 16 {
		return factor{}, nil
	}
	ok, left, err := s.db.UseRecoveryCode(ctx, u.ID, recoveryHash(u.ID, code))
	return factor{ok: ok, recovery: ok, left: left}, err
}

// startSecondStep is where a right password leads when the user signs in
// with a code too: the browser gets a new session token holding only who
// is signing in, until when, and where to go after; nobody is signed in.
func (s *Server) startSecondStep(w http.ResponseWriter, r *http.Request, u store.User, next string) error {
	ctx := r.Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	for _, k := range []string{sessUserID, sessGen, sessAuthAt, sessSeen} {
		s.sessions.Remove(ctx, k)
	}
	s.sessions.Put(ctx, sessPendingUser, u.ID)
	s.sessions.Put(ctx, sessPendingGen, u.SessionGen)
	s.sessions.Put(ctx, sessPendingUntil, s.now().Add(secondStepTime).UnixNano())
	s.sessions.Put(ctx, sessPendingNext, next)
	if err := s.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.login_password", Subject: "user:" + u.Username,
		Detail: "password right; two-factor code asked", ClientAddr: s.clientAddr(r)}); err != nil {
		return err
	}
	return redirect(w, r, "/login/two-factor")
}

// endSecondStep forgets a pending sign-in.
func (s *Server) endSecondStep(ctx context.Context) {
	for _, k := range []string{sessPendingUser, sessPendingGen, sessPendingUntil, sessPendingNext} {
		s.sessions.Remove(ctx, k)
	}
}

// pendingUser is the user whose password was right and whose code is due;
// why says, when there is none, what the sign-in page should tell.
func (s *Server) pendingUser(ctx context.Context) (u store.User, why string, err error) {
	id := s.sessions.GetInt64(ctx, sessPendingUser)
	if id == 0 {
		return u, "Sign in with your username and password first.", nil
	}
	if !s.now().Before(time.Unix(0, s.sessions.GetInt64(ctx, sessPendingUntil))) {
		return u, fmt.Sprintf("The code was not typed within %s. Sign in again.", durationText(secondStepTime)), nil
	}
	u, err = s.db.UserByID(ctx, id)
	if err != nil {
		return u, "Sign in again.", ignoreNotFound(err)
	}
	if u.Disabled || !u.TwoFactor || u.SessionGen != s.sessions.GetInt64(ctx, sessPendingGen) {
		return u, "Your account changed while you were signing in. Sign in again.", nil
	}
	return u, "", nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// loginCodePage asks for the code after a right password.
func (s *Server) loginCodePage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := userFrom(r.Context()); ok {
		return redirect(w, r, "/")
	}
	u, why, err := s.pendingUser(r.Context())
	if err != nil {
		return err
	}
	if why != "" {
		return s.backToLogin(w, r, why)
	}
	return s.renderLoginCode(w, r, http.StatusOK, u, "")
}

func (s *Server) renderLoginCode(w http.ResponseWriter, r *http.Request, status int, u store.User, msg string) error {
	p := s.page(r, "Two-factor code", "")
	p.Error = msg
	return s.render(w, r, status, views.LoginCode(p, views.LoginCodeForm{Username: u.Username}))
}

func (s *Server) backToLogin(w http.ResponseWriter, r *http.Request, why string) error {
	s.endSecondStep(r.Context())
	s.flash(r, why)
	return redirect(w, r, "/login")
}

// loginCode checks the code typed after a right password and, when it is
// right, signs the user in.
func (s *Server) loginCode(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	if _, ok := userFrom(ctx); ok {
		return redirect(w, r, "/")
	}
	u, why, err := s.pendingUser(ctx)
	if err != nil {
		return err
	}
	if why != "" {
		return s.backToLogin(w, r, why)
	}
	addr := s.clientAddr(r)
	typed := strings.TrimSpace(r.PostForm.Get("code"))
	if typed == "" {
		return s.renderLoginCode(w, r, http.StatusUnprocessableEntity, u, "Type the 6-digit code from your authenticator app, or one of your recovery codes.")
	}
	tKey, aKey := codeThrottleKey(u.Username), addrThrottleKey(addr)
	if at := s.throttle.reserve(tKey, aKey); at.wait > 0 {
		if err := s.auditThrottled(ctx, u, at, addr); err != nil {
			return err
		}
		return s.renderLoginCode(w, r, http.StatusTooManyRequests, u, "Too many wrong codes. Try again in "+waitText(at.wait)+".")
	}
	f, err := s.checkCode(ctx, u, truncate(typed, 64), true)
	if err != nil {
		s.throttle.release(tKey, aKey)
		return err
	}
	if !f.ok {
		s.throttle.failed(tKey, aKey)
		detail, msg := "wrong code", "That code is not right. Type the code your authenticator app shows now, or one of your recovery codes."
		if f.replayed {
			detail, msg = "code already used", "That code has been used already. Wait for the next code in your authenticator app and type it."
		}
		if err := s.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.two_factor_failed", Subject: "user:" + u.Username, Detail: detail, ClientAddr: addr}); err != nil {
			return err
		}
		return s.renderLoginCode(w, r, http.StatusUnprocessableEntity, u, msg)
	}
	s.throttle.succeed(tKey, aKey)
	next := s.safeNext(s.sessions.GetString(ctx, sessPendingNext))
	s.endSecondStep(ctx)
	if err := s.startSession(ctx, u); err != nil {
		return err
	}
	detail := "password and two-factor code"
	if f.recovery {
		detail = "password and recovery code"
		if err := s.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.recovery_code_used", Subject: "user:" + u.Username,
			Detail: fmt.Sprintf("%d recovery codes left", f.left), ClientAddr: addr}); err != nil {
			return err
		}
		s.flash(r, fmt.Sprintf("You signed in with a recovery code, which now no longer works; %d are left. If you lost your phone, set up two-factor sign-in again on your account page.", f.left))
	}
	if err := s.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.login", Subject: "user:" + u.Username, Detail: detail, ClientAddr: addr}); err != nil {
		return err
	}
	if u.MustChangePassword {
		return redirect(w, r, "/account/password")
	}
	return redirect(w, r, next)
}

// enrolmentPath reports whether a user who must set up two-factor sign-in
// may still reach path.
func enrolmentPath(path string) bool {
	switch path {
	case "/account/two-factor", "/account/two-factor/start", "/account/two-factor/confirm", "/account/two-factor/cancel", "/logout":
		return true
	}
	return false
}

// mustEnrol reports whether u must set up two-factor sign-in before doing
// anything else: an admin requires it for everyone and u has none.
func (s *Server) mustEnrol(ctx context.Context, u store.User) bool {
	if u.TwoFactor {
		return false
	}
	required, err := s.twoFactorRequired(ctx)
	if err != nil {
		s.log.Error("read two-factor setting", "err", err)
		return true // closed rather than open when the setting cannot be read
	}
	return required
}

// twoFactorRequired reports whether an admin requires two-factor sign-in
// for everyone.
func (s *Server) twoFactorRequired(ctx context.Context) (bool, error) {
	v, err := s.db.Setting(ctx, settingRequireTwoFactor, "0")
	return v == "1", err
}

// enrolFirst sends a user who must set up two-factor sign-in to do that,
// and reports whether it did.
func (s *Server) enrolFirst(w http.ResponseWriter, r *http.Request, u store.User) bool {
	if enrolmentPath(r.URL.Path) || !s.mustEnrol(r.Context(), u) {
		return false
	}
	redirect(w, r, "/account/two-factor")
	return true
}

// auditThrottled writes the one audit row of a throttling episode of
// password or code attempts: at.episode marks the first refusal since the
// wait began; later refusals are only counted.
func (s *Server) auditThrottled(ctx context.Context, u store.User, at throttleAttempt, addr string) error {
	if !at.episode {
		return nil
	}
	return s.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.two_factor_failed", Subject: "user:" + u.Username,
		Detail: "refused: too many wrong passwords or codes; throttled for " + waitText(at.wait) + "; further refusals are not audited", ClientAddr: addr})
}
