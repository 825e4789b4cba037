package web

import (
	"context"
	"net/http"
	"strings"

	"paydesk/internal/i18n"
)

// tr is the printer of the request's language.
func tr(r *http.Request) *i18n.Printer { return i18n.FromContext(r.Context()) }

// localize puts the printer of the language the request is answered in
// into its context (see language). Callbacks under /notify/ and the
// health check are answered in the protocol's words and need none.
func (s *Server) localize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/notify/") || r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(s.withLanguage(r.Context(), r)))
	})
}

// withLanguage returns ctx with the printer of the language r is answered
// in: the signed-in user's choice; else the first language of the
// browser's Accept-Language that Paydesk speaks; else, on the public
// payment page, Chinese, and on the console's pages the team's default.
func (s *Server) withLanguage(ctx context.Context, r *http.Request) context.Context {
	return i18n.NewContext(ctx, s.cat.Printer(s.language(ctx, r)))
}

func (s *Server) language(ctx context.Context, r *http.Request) i18n.Lang {
	if u, ok := userFrom(ctx); ok {
		if l, ok := i18n.ParseLang(u.Language); ok {
			return l
		}
	}
	if l, ok := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
		return l
	}
	if strings.HasPrefix(r.URL.Path, "/pay/") {
		return i18n.ZhCN
	}
	return s.desk.TeamLanguage(ctx)
}

// setLanguage saves the language the user reads the console in.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) error {
	lang := r.PostForm.Get("language")
	if err := s.desk.SetLanguage(r.Context(), s.actor(r), lang); err != nil {
		return err
	}
	// Said in the language chosen, as the next page is.
	l, ok := i18n.ParseLang(lang)
	if !ok {
		l = s.language(context.Background(), r)
	}
	s.flash(r, s.cat.Printer(l).T("Your language has been saved."))
	return redirect(w, r, "/account")
}

// setTeamLanguage saves the team's default language (admins).
func (s *Server) setTeamLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := s.desk.SetTeamLanguage(r.Context(), s.actor(r), r.PostForm.Get("language")); err != nil {
		return err
	}
	s.flash(r, tr(r).T("The team's default language has been saved."))
	return redirect(w, r, "/settings")
}
