package desk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (OWASP's second recommended set: 19 MiB, 2 passes).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
	minPassword  = 10
	maxPassword  = 256
)

// HashPassword returns an encoded argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash, comparing
// in constant time.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a username does not exist, so that a
// sign-in for an unknown name costs the same time as one for a known name.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3mJ1SjVgkhXcFy9Xrbr0q7cPsQ1Z0dM6Y9AmcqYt5mY"

// ValidatePassword says in words what is wrong with a new password, or nil.
func ValidatePassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return refuse(Invalid, "The password contains bytes that are not text; type it again.")
	case utf8.RuneCountInString(pw) < minPassword:
		return refuse(Invalid, "Choose a password of at least %d characters.", minPassword)
	case len(pw) > maxPassword:
		return refuse(Invalid, "Choose a password of at most %d characters.", maxPassword)
	case strings.TrimSpace(pw) == "":
		return refuse(Invalid, "A password cannot be only spaces.")
	}
	return nil
}

// RandomPassword returns a password of about 20 URL-safe characters.
func RandomPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// MaxUsername is the longest username, in bytes.
const MaxUsername = 64

// ValidateUsername says in words what is wrong with a new username, or nil.
// Usernames are short and plain so that they read well in the audit log.
func ValidateUsername(name string) error {
	switch {
	case name == "":
		return refuse(Invalid, "Type a username.")
	case !utf8.ValidString(name):
		return refuse(Invalid, "The username contains bytes that are not text; type it again.")
	case len(name) > MaxUsername:
		return refuse(Invalid, "Choose a username of at most %d characters.", MaxUsername)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return refuse(Invalid, "A username may use only letters a–z, digits and . _ - @ (not %q).", c)
		}
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
