package casefile

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaVersion is the schema this build writes (PRAGMA user_version).
// Files with a lower version are migrated when opened for writing; files
// with a higher one are refused.
const SchemaVersion = 1

// migrations[i] takes a case from schema i to i+1. Append only: a released
// migration is never edited.
var migrations = [...]string{
	// 0 → 1: the first schema.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per input, in the order they were added. sha256 makes adding
-- idempotent; first_flow..last_event are the rowid ranges of the input's
-- records (one transaction, so contiguous).
CREATE TABLE evidence (
	id          INTEGER PRIMARY KEY,
	sha256      TEXT NOT NULL UNIQUE,
	path        TEXT NOT NULL,
	size        INTEGER NOT NULL,
	kind        TEXT NOT NULL DEFAULT '',
	added_at    INTEGER NOT NULL,
	added_by    TEXT NOT NULL DEFAULT '',
	custody_seq INTEGER,
	json        TEXT NOT NULL
);

-- Record tables share their filter columns: ip_a/ip_b are 16-byte
-- addresses (IPv4 as ::ffff:a.b.c.d) so a CIDR is a BETWEEN; times are
-- Unix nanoseconds UTC; cc is ISO 3166; json is the record as the
-- commands print it.
CREATE TABLE flows (
	id          INTEGER PRIMARY KEY,
	evidence_id INTEGER NOT NULL REFERENCES evidence(id),
	rec_id      TEXT NOT NULL,
	pos         INTEGER NOT NULL,
	off         INTEGER NOT NULL,
	ip_a        BLOB,
	ip_b        BLOB,
	t_start     INTEGER NOT NULL,
	t_end       INTEGER NOT NULL,
	asn_a       INTEGER,
	asn_b       INTEGER,
	cc_a        TEXT,
	cc_b        TEXT,
	user_agent  TEXT,
	json        TEXT NOT NULL
);
CREATE INDEX flows_ip_a ON flows(ip_a);
CREATE INDEX flows_ip_b ON flows(ip_b);
CREATE INDEX flows_t ON flows(t_start);

CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	evidence_id INTEGER NOT NULL REFERENCES evidence(id),
	rec_id      TEXT NOT NULL,
	pos         INTEGER NOT NULL,
	off         INTEGER NOT NULL,
	ip_a        BLOB,
	ip_b        BLOB,
	t_start     INTEGER NOT NULL,
	asn_a       INTEGER,
	cc_a        TEXT,
	cred_a      TEXT,
	user_agent  TEXT,
	json        TEXT NOT NULL
);
CREATE INDEX events_ip_a ON events(ip_a);
CREATE INDEX events_t ON events(t_start);
CREATE INDEX events_cred ON events(cred_a) WHERE cred_a IS NOT NULL;

CREATE TABLE problems (
	id          INTEGER PRIMARY KEY,
	evidence_id INTEGER NOT NULL REFERENCES evidence(id),
	json        TEXT NOT NULL
);
CREATE TABLE caps (
	id          INTEGER PRIMARY KEY,
	evidence_id INTEGER NOT NULL REFERENCES evidence(id),
	json        TEXT NOT NULL
);

-- Enrichment results as the records carry them, once per distinct
-- (address, result); sources[] in json names each database build.
CREATE TABLE enrichment (
	ip   BLOB NOT NULL,
	hash TEXT NOT NULL,
	asn  INTEGER,
	cc   TEXT,
	json TEXT NOT NULL,
	PRIMARY KEY (ip, hash)
) WITHOUT ROWID;
CREATE TABLE databases (
	sha256 TEXT PRIMARY KEY,
	json   TEXT NOT NULL
) WITHOUT ROWID;

-- Derived records: replaced as a whole after each addition.
CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	rec_id     TEXT NOT NULL,
	kind       TEXT NOT NULL,
	ip_a       BLOB,
	t_start    INTEGER NOT NULL,
	t_end      INTEGER NOT NULL,
	asn_a      INTEGER,
	cc_a       TEXT,
	cred_a     TEXT,
	cred_b     TEXT,
	user_agent TEXT,
	campaign   TEXT,
	json       TEXT NOT NULL
);
CREATE INDEX sessions_rec ON sessions(rec_id);
CREATE INDEX sessions_campaign ON sessions(campaign);
CREATE TABLE campaigns (
	id         INTEGER PRIMARY KEY,
	rec_id     TEXT NOT NULL UNIQUE,
	score      REAL NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	json       TEXT NOT NULL
);
CREATE TABLE links (
	id        INTEGER PRIMARY KEY,
	campaign  TEXT NOT NULL,
	rule      TEXT NOT NULL,
	attribute TEXT NOT NULL,
	value     TEXT NOT NULL,
	weight    REAL NOT NULL,
	json      TEXT NOT NULL
);
CREATE INDEX links_value ON links(attribute, value);
CREATE TABLE chains (
	id     INTEGER PRIMARY KEY,
	rec_id TEXT NOT NULL,
	json   TEXT NOT NULL
);
CREATE TABLE hops (
	id       INTEGER PRIMARY KEY,
	chain    TEXT NOT NULL,
	campaign TEXT,
	ip       BLOB,
	role     TEXT NOT NULL,
	json     TEXT NOT NULL
);
CREATE INDEX hops_ip ON hops(ip);

-- The custody log: one hash-chained forensics.CustodyEntry per action.
CREATE TABLE custody (
	seq       INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	action    TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL,
	json      TEXT NOT NULL
);
`,
}

// migrate brings the schema from version from to SchemaVersion, each step
// in its own transaction together with the new user_version.
func (f *File) migrate(ctx context.Context, from int) error {
	for v := from; v < SchemaVersion; v++ {
		err := f.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}
