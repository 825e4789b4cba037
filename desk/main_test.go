package desk

import (
	"testing"

	"paydesk/internal/dbtest"
)

// The core's tests run on SQLite, and on PostgreSQL too when
// PAYDESK_TEST_DATABASE_URL names a database (see dbtest).
func TestMain(m *testing.M) { dbtest.Main(m) }
