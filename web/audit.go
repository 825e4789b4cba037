package web

import (
	"bufio"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/store"
	"paydesk/views"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

// auditQuery reads the audit filter from the query string: the form as
// typed (to show again) and the store filter. Dates are days in the
// console's zone; "to" includes its whole day.
func (s *Server) auditQuery(r *http.Request) (views.AuditFilter, store.AuditFilter, error) {
	q := r.URL.Query()
	clean := func(name string, max int) string {
		return truncate(strings.ToValidUTF8(strings.TrimSpace(q.Get(name)), ""), max)
	}
	form := views.AuditFilter{
		Actor:  clean("actor", 64),
		Action: clean("action", 64),
		Text:   clean("q", 200),
		From:   clean("from", 10),
		To:     clean("to", 10),
	}
	f := store.AuditFilter{Actor: form.Actor, Action: form.Action, Text: form.Text}
	var err error
	if f.From, err = s.parseDay(form.From, false); err != nil {
		return form, f, errStatus(http.StatusUnprocessableEntity, "From: type a date like 2026-11-26.")
	}
	if f.To, err = s.parseDay(form.To, true); err != nil {
		return form, f, errStatus(http.StatusUnprocessableEntity, "To: type a date like 2026-11-26.")
	}
	if before := q.Get("before"); before != "" {
		f.BeforeID, err = strconv.ParseInt(before, 10, 64)
		if err != nil || f.BeforeID <= 0 {
			return form, f, errStatus(http.StatusUnprocessableEntity, "The page link is damaged; start again from the newest entries.")
		}
	}
	return form, f, nil
}

// filterValues is the query string of a filter, for links to other pages
// and to the CSV.
func filterValues(form views.AuditFilter) url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"actor": form.Actor, "action": form.Action, "q": form.Text, "from": form.From, "to": form.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// auditPage lists the audit log, newest first, with filters and keyset
// paging (?before=ID).
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	form, f, err := s.auditQuery(r)
	m := views.AuditPage{Filter: form, Zone: s.loc.String()}
	m.CSVURL = withQuery("/settings/audit.csv", filterValues(form))
	p := s.page(r, "Audit log", "settings")
	if he, ok := err.(*httpError); ok {
		p.Error = he.text(r)
		return s.render(w, r, he.status, views.Audit(p, m))
	}
	f.Limit = auditPageSize + 1
	rows, err := s.db.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	if len(rows) > auditPageSize {
		rows = rows[:auditPageSize]
		v := filterValues(form)
		v.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		m.NextURL = withQuery("/settings/audit", v)
	}
	if f.BeforeID != 0 {
		m.FirstURL = withQuery("/settings/audit", filterValues(form))
	}
	for _, e := range rows {
		m.Rows = append(m.Rows, views.AuditRow{
			ID: e.ID, At: views.Time(e.At, s.loc), Actor: e.Actor, Action: e.Action, ActionName: tr(r).Msg(desk.AuditActionName(e.Action)),
			Subject: e.Subject, Detail: e.Detail, ClientAddr: e.ClientAddr,
		})
	}
	return s.render(w, r, http.StatusOK, views.Audit(p, m))
}

// auditCSV exports every entry matching the filter, newest first, as CSV
// for Excel: UTF-8 with a byte-order mark, cells made safe from formula
// injection. It reads the log in chunks so memory stays flat.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request) error {
	_, f, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	const chunk = 1000
	f.Limit = chunk
	rows, err := s.db.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	name := "paydesk-audit-" + s.now().In(s.loc).Format("20060102-150405") + ".csv"
	csvDownload(w, name)
	bw := bufio.NewWriter(w)
	bw.WriteString("\uFEFF")
	cw := csv.NewWriter(bw)
	pr := tr(r)
	cw.Write([]string{pr.T("No."), pr.T("Time (%s)", pr.T(views.ZoneName(s.loc))), pr.T("Actor"), pr.T("Action"), pr.T("Action code"),
		pr.T("Acted on"), pr.T("Detail (as recorded)"), pr.T("Client address"), pr.T("Hash")})
	for len(rows) > 0 {
		for _, e := range rows {
			cw.Write([]string{
				strconv.FormatInt(e.ID, 10), views.Time(e.At, s.loc),
				payoutcsv.FormulaSafe(e.Actor), payoutcsv.FormulaSafe(pr.Msg(desk.AuditActionName(e.Action))), payoutcsv.FormulaSafe(e.Action), payoutcsv.FormulaSafe(e.Subject), payoutcsv.FormulaSafe(e.Detail), payoutcsv.FormulaSafe(e.ClientAddr), e.Hash,
			})
		}
		if len(rows) < chunk {
			break
		}
		f.BeforeID = rows[len(rows)-1].ID
		if rows, err = s.db.AuditEntries(r.Context(), f); err != nil {
			// The header is sent: all that can be done is to stop and log.
			s.log.Error("audit export", "err", err)
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
