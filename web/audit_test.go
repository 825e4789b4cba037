package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"paydesk/store"
)

func TestAuditPageFiltersAndPages(t *testing.T) {
	env := newTestEnv(t)
	admin, adminName := env.signedIn(store.RoleAdmin)
	ctx := context.Background()
	for i := range 120 {
		actor := "alice"
		if i%2 == 1 {
			actor = "bob"
		}
		if err := env.db.Audit(ctx, store.AuditEntry{Actor: actor, Action: "payment.create", Subject: fmt.Sprintf("pay:%d", i), Detail: fmt.Sprintf("amount %d fen", i)}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(body string) int { return strings.Count(body, "<tr>") - 1 } // minus the header row
	res := admin.get("/settings/audit")
	if res.StatusCode != 200 || count(res.body) != auditPageSize {
		t.Fatalf("first page: %d with %d rows", res.StatusCode, count(res.body))
	}
	// Newest first: the payments were written after the admin's sign-in.
	if !strings.Contains(res.body, "pay:119") || strings.Contains(res.body, "pay:69<") {
		t.Fatal("the first page is not the 50 newest")
	}

	// Keyset paging, following the "older" links to the end.
	seen := map[string]bool{}
	path := "/settings/audit?actor=bob"
	pages := 0
	for path != "" {
		res := admin.get(path)
		pages++
		for i := 1; i < 120; i += 2 {
			if strings.Contains(res.body, fmt.Sprintf(">pay:%d<", i)) {
				seen[fmt.Sprint(i)] = true
			}
		}
		if strings.Contains(res.body, ">alice<") {
			t.Fatal("the actor filter let alice through")
		}
		path = ""
		if i := strings.Index(res.body, `href="/settings/audit?`); i >= 0 {
			link := res.body[i+6:]
			link = link[:strings.Index(link, `"`)]
			if strings.Contains(link, "before=") && strings.Contains(res.body[i-200:i+len(link)+60], "audit-older") {
				path = strings.ReplaceAll(link, "&amp;", "&")
			}
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 60 || pages != 2 {
		t.Fatalf("saw %d of bob's 60 entries in %d pages", len(seen), pages)
	}

	tests := []struct {
		query string
		want  []string
		not   []string
	}{
		{"?action=auth.", []string{"auth.login", adminName}, []string{"payment.create"}},
		{"?q=amount+7+fen", []string{"pay:7<"}, []string{"pay:17<"}},
		{"?from=2000-01-01&to=2000-01-02", []string{"No entries match."}, nil},
		{"?to=" + env.now().In(env.srv.loc).Format("2006-01-02"), []string{"pay:119"}, nil},
	}
	for _, tt := range tests {
		res := admin.get("/settings/audit" + tt.query)
		for _, w := range tt.want {
			if !strings.Contains(res.body, w) {
				t.Errorf("%s: no %q", tt.query, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(res.body, w) {
				t.Errorf("%s: %q should be filtered out", tt.query, w)
			}
		}
	}
	for _, bad := range []string{"?from=yesterday", "?to=2026-13-45", "?before=-3", "?before=x"} {
		if res := admin.get("/settings/audit" + bad); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error"`) {
			t.Errorf("%s: %d", bad, res.StatusCode)
		}
	}
}

func TestAuditCSV(t *testing.T) {
	env := newTestEnv(t)
	admin, _ := env.signedIn(store.RoleAdmin)
	ctx := context.Background()
	tricky := []string{"=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain, with comma", "引号\"中文"}
	for i, d := range tricky {
		env.db.Audit(ctx, store.AuditEntry{Actor: "alice", Action: "note.test", Subject: fmt.Sprint("n", i), Detail: d})
	}
	// Enough rows to need more than one chunk.
	for i := range 2100 {
		env.db.Audit(ctx, store.AuditEntry{Actor: "bulk", Action: "bulk.row", Subject: fmt.Sprint(i)})
	}
	res := admin.get("/settings/audit.csv?action=note.")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	if !strings.HasPrefix(res.body, "\uFEFF") {
		t.Fatal("no byte-order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(tricky)+1 || recs[0][0] != "No." || recs[0][5] != "Acted on" {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	got := map[string]string{}
	for _, r := range recs[1:] {
		got[r[5]] = r[6]
	}
	want := map[string]string{
		"n0": "'=HYPERLINK(\"http://evil\")", "n1": "'+1+1", "n2": "'-2", "n3": "'@SUM(A1)", "n4": "'\tx",
		"n6": "plain, with comma", "n7": "引号\"中文",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("cell %s = %q, want %q", k, got[k], v)
		}
	}
	// encoding/csv drops a lone carriage return when reading; look at the bytes.
	if !strings.Contains(res.body, "\"'\rx\"") {
		t.Error("a cell starting with a carriage return is not prefixed")
	}
	all := admin.get("/settings/audit.csv?actor=bulk")
	recs, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(all.body, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 2101 {
		t.Fatalf("bulk export: %d records, %v", len(recs), err)
	}
	if recs[1][5] != "2099" || recs[2100][5] != "0" {
		t.Fatalf("bulk export order: first %v last %v", recs[1], recs[2100])
	}
	if res := admin.get("/settings/audit.csv?from=nope"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad filter: %d", res.StatusCode)
	}
}

func TestSignInsAreAudited(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	b := env.browser()
	b.postForm("/login", map[string][]string{"username": {name}, "password": {"wrong-password"}})
	b.postForm("/login", map[string][]string{"username": {"ghost"}, "password": {"wrong-password"}})
	b.postForm("/login", map[string][]string{"username": {name}, "password": {testPassword}})
	b.postForm("/logout", nil)
	es, err := env.db.AuditEntries(context.Background(), store.AuditFilter{Action: "auth."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Subject+" "+e.Detail)
		if e.ClientAddr == "" {
			t.Errorf("%s has no client address", e.Action)
		}
	}
	want := []string{
		"auth.logout user:" + name + " ",
		"auth.login user:" + name + " ",
		"auth.login_failed user:ghost no such user",
		"auth.login_failed user:" + name + " wrong password",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rep, _ := env.db.VerifyAudit(context.Background())
	if !rep.Intact() {
		t.Fatalf("chain broken: %+v", rep)
	}
}
