package web

import (
	"fmt"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// Every CSV download (every GET route ending in .csv, also ones added
// later) says Cache-Control: no-store.
func TestCSVDownloadsAreNotCached(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	admin, _ := env.signedIn(store.RoleAdmin)
	id := admin.uploadOK("b.csv", payoutCSV(2, accountNo))
	n := 0
	for _, rt := range env.srv.routes() {
		if rt.method != "GET" || !strings.HasSuffix(rt.pattern, ".csv") {
			continue
		}
		n++
		path := pathParam.ReplaceAllString(rt.pattern, fmt.Sprint(id))
		res := admin.get(path)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, cc)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") {
			t.Errorf("GET %s: Content-Disposition %q", path, cd)
		}
	}
	if n < 4 {
		t.Fatalf("only %d CSV routes", n)
	}
}
