package risk

import (
	"context"
	"time"
)

// Store is the storage the risk service needs. Implementations are safe for
// concurrent use; sqlstore implements it over SQLite and PostgreSQL.
type Store interface {
	// CreateRiskClient stores a new client. A name already taken is an
	// ECONFLICT *trueup.Error.
	CreateRiskClient(ctx context.Context, c Client) error
	// RiskClient returns the client with the given id (revoked ones
	// included), or an ENOTFOUND *trueup.Error.
	RiskClient(ctx context.Context, id ClientID) (Client, error)
	// RiskClients returns every client, oldest first.
	RiskClients(ctx context.Context) ([]Client, error)
	// UpdateRiskClient changes the settings of a client that is not
	// revoked; the zero fields of the update keep the current values.
	UpdateRiskClient(ctx context.Context, u ClientUpdate) error
	// RotateRiskClient replaces the secret hash of a client that is not
	// revoked, or returns an ENOTFOUND *trueup.Error.
	RotateRiskClient(ctx context.Context, id ClientID, secretHash string) error
	// RevokeRiskClient revokes a client for good, or returns an ENOTFOUND
	// *trueup.Error when there is no such client not yet revoked.
	RevokeRiskClient(ctx context.Context, id ClientID) error
	// LeaseRiskQuota atomically grants up to want calls of the client's
	// quota (all of want when the quota is unlimited) and adds them to its
	// used count. It returns how many were granted (0 when the quota is
	// exhausted) and the used count after the grant.
	LeaseRiskQuota(ctx context.Context, id ClientID, want int64) (granted, used int64, err error)
	// LeaseRiskRate atomically grants up to want calls of the client's rate
	// limit in the second window (Unix seconds); a window other than the
	// stored one starts a new count. It returns how many were granted: 0
	// when the window's calls are used up.
	LeaseRiskRate(ctx context.Context, id ClientID, window, want int64) (int64, error)
	// RiskRecords returns the records matching q, newest day first and,
	// within a day, in the order they were imported.
	RiskRecords(ctx context.Context, q Query) ([]Record, error)
	// RiskList returns the list's version (changed by every import) and
	// how many records it holds.
	RiskList(ctx context.Context) (ListState, error)
	// EachRiskMobile calls fn with the mobile number of every record (a
	// number once per record), from one consistent read. It stops at fn's
	// first error and returns it.
	EachRiskMobile(ctx context.Context, fn func(MD5) error) error
	// BeginRiskImport starts an import of records in one transaction.
	BeginRiskImport(ctx context.Context, o ImportOptions) (Importer, error)
}

// ListState is the list's summary.
type ListState struct {
	// Version changes with every import.
	Version int64
	// Records is how many records the list holds.
	Records int64
}

// ClientUpdate changes a client's settings. Nil fields are kept.
type ClientUpdate struct {
	ID         ClientID
	APIs       *[]API
	TimeZone   *string
	WindowDays *int
	Quota      *int64
	Rate       *int64
	// ExpiresAt sets the expiry; NoExpiry removes it.
	ExpiresAt *time.Time
	NoExpiry  bool
}

// ImportOptions are the options of an import.
type ImportOptions struct {
	// Replace removes every stored record before the import's records are
	// added (in the same transaction): the file is the whole new list.
	Replace bool
	// RebuildIndex drops the look-up index for the import and builds it
	// again before commit, which is much faster for large imports and much
	// slower for small ones into a large list.
	RebuildIndex bool
}

// Importer adds records to the list in one transaction.
type Importer interface {
	// Add adds one record.
	Add(ctx context.Context, r Record) error
	// Commit stores every added record and returns how many there were.
	Commit(ctx context.Context) (int64, error)
	// Rollback discards the import; it is safe after Commit.
	Rollback()
}
