package desk

import (
	"context"
	"database/sql"

	"paydesk/internal/i18n"
	"paydesk/store"
)

// settingLanguage holds the team's default language: the language of
// users who chose none, when their browser asks for none Paydesk speaks.
const settingLanguage = "console.language"

// TeamLanguage is the team's default language; zh-CN until an admin
// chooses another.
func (d *Desk) TeamLanguage(ctx context.Context) i18n.Lang {
	v, err := d.db.Setting(ctx, settingLanguage, "")
	if err != nil {
		d.log.Error("read setting", "key", settingLanguage, "err", err)
	}
	if l, ok := i18n.ParseLang(v); ok {
		return l
	}
	return i18n.ZhCN
}

// SetTeamLanguage sets the team's default language (admins).
func (d *Desk) SetTeamLanguage(ctx context.Context, a Actor, lang string) error {
	if !a.AtLeast(store.RoleAdmin) {
		return errAdminOnly
	}
	l, ok := i18n.ParseLang(lang)
	if !ok {
		return refuseField("language", "Choose one of the languages offered.")
	}
	old := d.TeamLanguage(ctx)
	return d.saveSettings(ctx, a, map[string]string{settingLanguage: string(l)}, store.AuditEntry{
		Action: "settings.language", Subject: "setting:" + settingLanguage, Detail: string(old) + " → " + string(l)})
}

// SetLanguage sets the language a's own console speaks; "" goes back to
// following the browser.
func (d *Desk) SetLanguage(ctx context.Context, a Actor, lang string) error {
	if a.UserID == 0 {
		return refuse(Forbidden, "Sign in first.")
	}
	if _, ok := i18n.ParseLang(lang); !ok && lang != "" {
		return refuseField("language", "Choose one of the languages offered.")
	}
	return d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.SetLanguageTx(ctx, tx, a.UserID, lang); err != nil {
			return err
		}
		detail := lang
		if detail == "" {
			detail = "follow the browser"
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "user.language", Subject: "user:" + a.Username, Detail: detail, ClientAddr: a.ClientAddr})
	})
}
