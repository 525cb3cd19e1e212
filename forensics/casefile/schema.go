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
-- idempotent.
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

-- Flows, events and sessions are stored in blocks of up to blockRecords
-- records of one kind from one input: json holds the records as the
-- commands print them, one per line (zstd-compressed when codec is
-- 'zstd'); keys holds, per record, the values
-- queries filter on (see keys.go), so a query reads small columns and
-- decodes JSON only for what matches. One SQLite row per block rather than
-- per record is what makes ingest fast (a row costs the same few
-- microseconds whatever its size). t_min/t_max let time filters skip
-- blocks.
CREATE TABLE blocks (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL,
	evidence_id INTEGER REFERENCES evidence(id),
	n           INTEGER NOT NULL,
	t_min       INTEGER NOT NULL,
	t_max       INTEGER NOT NULL,
	codec       TEXT NOT NULL DEFAULT '',
	keys        BLOB NOT NULL,
	json        BLOB NOT NULL
);
CREATE INDEX blocks_kind ON blocks(kind, evidence_id);

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
-- The database builds the case cites, in the order enrichment used them.
CREATE TABLE databases (
	ord  INTEGER PRIMARY KEY,
	json TEXT NOT NULL
);

-- Derived records: replaced as a whole after each addition (sessions
-- are blocks of kind 'session').
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
