package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// GatewayAccount is one gateway merchant. KeySealed is the merchant key
// sealed under the console's master key; the store never sees it in clear.
type GatewayAccount struct {
	ID            int64
	Name          string
	BaseURL       string
	MchID         string
	AppID         string
	KeySealed     []byte
	NotifyBaseURL string // public base URL at which the gateway reaches Paydesk
	MerchantName  string // shown on public payment pages
	// NotifySources are the gateway's source addresses for this account's
	// callbacks: CIDR prefixes separated by spaces; empty means any address.
	NotifySources string
	IsSandbox     bool
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const gatewayCols = `id, name, base_url, mch_id, app_id, key_sealed, notify_base_url, merchant_name, notify_sources, is_sandbox, disabled, created_at, updated_at`

func scanGateway(row rowScanner) (GatewayAccount, error) {
	var g GatewayAccount
	var created, updated string
	err := row.Scan(&g.ID, &g.Name, &g.BaseURL, &g.MchID, &g.AppID, &g.KeySealed, &g.NotifyBaseURL, &g.MerchantName, &g.NotifySources, &g.IsSandbox, &g.Disabled, &created, &updated)
	g.CreatedAt, g.UpdatedAt = parseTime(created), parseTime(updated)
	return g, err
}

// CreateGatewayAccountTx adds an account inside tx (with its audit row).
func (db *DB) CreateGatewayAccountTx(ctx context.Context, tx *sql.Tx, g GatewayAccount) (int64, error) {
	now := timeText(db.now())
	id, err := db.insertID(ctx, tx, `INSERT INTO gateway_accounts (name, base_url, mch_id, app_id, key_sealed, notify_base_url, merchant_name, notify_sources,
		is_sandbox, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.Name, g.BaseURL, g.MchID, g.AppID, g.KeySealed, g.NotifyBaseURL, g.MerchantName, g.NotifySources, g.IsSandbox, g.Disabled, now, now)
	if err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("a gateway account named %q exists already: %w", g.Name, ErrConflict)
		}
		return 0, err
	}
	return id, nil
}

// UpdateGatewayAccountTx saves every field of g; a nil KeySealed keeps the stored key.
func (db *DB) UpdateGatewayAccountTx(ctx context.Context, tx *sql.Tx, g GatewayAccount) error {
	q := `UPDATE gateway_accounts SET name = ?, base_url = ?, mch_id = ?, app_id = ?, notify_base_url = ?, merchant_name = ?, notify_sources = ?,
		disabled = ?, updated_at = ?`
	args := []any{g.Name, g.BaseURL, g.MchID, g.AppID, g.NotifyBaseURL, g.MerchantName, g.NotifySources, g.Disabled, timeText(db.now())}
	if g.KeySealed != nil {
		q += `, key_sealed = ?`
		args = append(args, g.KeySealed)
	}
	var res sql.Result
	err := db.guard(ctx, tx, func() (err error) {
		res, err = tx.ExecContext(ctx, q+` WHERE id = ?`, append(args, g.ID)...)
		return err
	})
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("a gateway account named %q exists already: %w", g.Name, ErrConflict)
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("gateway account %d: %w", g.ID, ErrNotFound)
	}
	return nil
}

// GatewayAccount returns one account by id, or ErrNotFound.
func (db *DB) GatewayAccount(ctx context.Context, id int64) (GatewayAccount, error) {
	g, err := scanGateway(db.QueryRowContext(ctx, `SELECT `+gatewayCols+` FROM gateway_accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("gateway account %d: %w", id, ErrNotFound)
	}
	return g, err
}

// GatewayAccounts lists accounts, the enabled ones first, by name.
func (db *DB) GatewayAccounts(ctx context.Context, includeDisabled bool) ([]GatewayAccount, error) {
	q := `SELECT ` + gatewayCols + ` FROM gateway_accounts`
	if !includeDisabled {
		q += ` WHERE disabled = 0`
	}
	return collect(ctx, db, scanGateway, q+` ORDER BY disabled, name`)
}

// GatewayAccountsByMchID lists the enabled accounts of a merchant id, to find
// the key a notification must be verified with.
func (db *DB) GatewayAccountsByMchID(ctx context.Context, mchID string) ([]GatewayAccount, error) {
	return collect(ctx, db, scanGateway, `SELECT `+gatewayCols+` FROM gateway_accounts WHERE mch_id = ? AND disabled = 0 ORDER BY id`, mchID)
}

// SandboxAccount returns the built-in sandbox's account, or ErrNotFound.
func (db *DB) SandboxAccount(ctx context.Context) (GatewayAccount, error) {
	g, err := scanGateway(db.QueryRowContext(ctx, `SELECT `+gatewayCols+` FROM gateway_accounts WHERE is_sandbox = 1 ORDER BY id LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("sandbox account: %w", ErrNotFound)
	}
	return g, err
}

// CountRealGatewayAccounts counts enabled accounts that are not the sandbox.
func (db *DB) CountRealGatewayAccounts(ctx context.Context) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM gateway_accounts WHERE is_sandbox = 0 AND disabled = 0`).Scan(&n)
	return n, err
}
