package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// storeReads are the store methods web may call: plain reads that back
// pages, lists and counts. Every other method of store.DB (each write, each
// …Tx method, and any method added later) is refused by default: a write
// goes through the core (package desk).
var storeReads = []string{
	"Alerts", "AuditEntries", "BatchByID", "BatchCounts", "BatchHistory", "BatchIssues", "BatchPayouts",
	"BatchPayoutsAll", "Batches", "CountOpenAlerts", "CountTwoFactor", "EachPayOrder", "Events",
	"GatewayAccount", "GatewayAccounts", "LastNotificationAt", "ListPayOrders", "NotificationByID",
	"Notifications", "NotificationsForOrder", "Orders", "PayLinkByOrder", "PayLinkByToken", "PayOrderByID",
	"PayOrderByNumber", "PayoutByID", "PayoutByNumber", "Payouts", "ResendJobByID", "UserByID", "Users",
	"BatchErrorRows", "EachPayout", "ListPayouts", "Search",
}

// TestWebWritesOnlyThroughTheCore type-checks package web (without its
// tests) and fails on every place where it opens a transaction (InTx, any
// …Tx method), uses database/sql, calls a store method that is not one of
// storeReads, or calls the gateway (payments.Client).
func TestWebWritesOnlyThroughTheCore(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	violations, err := webViolations("./web")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		t.Errorf("%s: %s", v.pos, v.what)
	}
}

type violation struct {
	pos  token.Position
	what string
}

// webViolations lists what package dir (web) does that only the core may.
func webViolations(dir string) ([]violation, error) {
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}", dir).Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	exports := map[string]string{}
	for line := range strings.Lines(string(out)) {
		path, file, _ := strings.Cut(strings.TrimSpace(line), "\t")
		exports[path] = file
	}
	files, err := exec.Command("go", "list", "-f", `{{join .GoFiles "\n"}}`, dir).Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for name := range strings.Lines(string(bytes.TrimSpace(files))) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, strings.TrimSpace(name)), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	if _, err := conf.Check("paydesk/web", fset, parsed, info); err != nil {
		return nil, err
	}
	var vs []violation
	add := func(pos token.Pos, format string, args ...any) {
		p := fset.Position(pos)
		vs = append(vs, violation{pos: p, what: fmt.Sprintf(format, args...)})
	}
	for _, f := range parsed {
		for _, imp := range f.Imports {
			if imp.Path.Value == `"database/sql"` {
				add(imp.Pos(), "imports database/sql")
			}
		}
	}
	for id, obj := range info.Uses {
		if obj.Pkg() == nil {
			continue
		}
		switch pkg := obj.Pkg().Path(); {
		case pkg == "database/sql":
			add(id.Pos(), "uses database/sql (%s)", obj.Name())
		case pkg == "paydesk/payments" && (obj.Name() == "Client" || obj.Name() == "NewClient"):
			add(id.Pos(), "uses payments.%s: gateway calls are the core's", obj.Name())
		}
	}
	for sel, s := range info.Selections {
		name := sel.Sel.Name
		recv := recvName(s.Recv())
		switch {
		case s.Kind() == types.FieldVal:
			if strings.HasPrefix(types.TypeString(s.Type(), nil), "*database/sql.") {
				add(sel.Pos(), "reaches the database handle (%s.%s)", recv, name)
			}
			continue
		case name == "InTx" || strings.HasSuffix(name, "Tx"):
			add(sel.Pos(), "calls %s.%s: a transaction is the core's", recv, name)
		case recv == "paydesk/store.DB" && !slices.Contains(storeReads, name):
			add(sel.Pos(), "calls store.DB.%s, which is not a read web may make (storeReads): writes go through the core", name)
		case recv == "paydesk/payments.Client":
			add(sel.Pos(), "calls payments.Client.%s: gateway calls are the core's", name)
		}
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].pos.Filename != vs[j].pos.Filename {
			return vs[i].pos.Filename < vs[j].pos.Filename
		}
		return vs[i].pos.Offset < vs[j].pos.Offset
	})
	return vs, nil
}

// recvName is the package path and name of a receiver's named type,
// pointer or not: "paydesk/store.DB".
func recvName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil {
		return n.Obj().Pkg().Path() + "." + n.Obj().Name()
	}
	return types.TypeString(t, nil)
}
