package casefile

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// Batch is one input and everything ingested from it: it is stored in one
// transaction, so a case holds all of it or none of it.
type Batch struct {
	Input   forensics.Input
	AddedAt time.Time
	AddedBy string
	// Params are the ingest parameters used for this input (time zone,
	// trusted proxies, field mapping...), kept with the evidence item.
	Params   map[string]string
	Flows    []forensics.Flow
	Events   []forensics.Event
	Problems []forensics.Problem
	Caps     []forensics.CapHit
	// Custody, when set, is chained and stored in the same transaction, so
	// the log names exactly the inputs that are in the case.
	Custody *forensics.CustodyEntry
}

// EvidenceItem is an input as the case holds it.
type EvidenceItem struct {
	forensics.Input
	AddedAt    forensics.Time `json:"added_at"`
	AddedBy    string         `json:"added_by,omitempty"`
	CustodySeq int            `json:"custody_seq,omitempty"`
	// Params are the ingest parameters used for this input.
	Params map[string]string `json:"parameters,omitempty"`
	Flows  int64             `json:"flows"`
	Events int64             `json:"events"`
}

// HasEvidence reports whether an input with this SHA-256 is in the case.
func (f *File) HasEvidence(ctx context.Context, sha string) (bool, error) {
	var id int64
	err := f.db.QueryRowContext(ctx, `SELECT id FROM evidence WHERE sha256 = ?`, sha).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up evidence in %s: %w", f.path, err)
	}
	return true, nil
}

// AddEvidence stores b in one transaction. It returns false, storing
// nothing, when an input with the same SHA-256 is already in the case.
func (f *File) AddEvidence(ctx context.Context, b *Batch) (added bool, err error) {
	if f.readOnly {
		return false, ErrReadOnly
	}
	if b.Input.SHA256 == "" {
		return false, fmt.Errorf("add %s to case: no SHA-256", b.Input.Path)
	}
	err = f.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM evidence WHERE sha256 = ?`, b.Input.SHA256).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		added = true
		return f.insertBatch(ctx, tx, b)
	})
	if err != nil {
		return false, fmt.Errorf("add %s to case %s: %w", b.Input.Path, f.path, err)
	}
	return added, nil
}

func (f *File) insertBatch(ctx context.Context, tx *sql.Tx, b *Batch) error {
	seq := 0
	if b.Custody != nil {
		if err := appendCustody(ctx, tx, b.Custody); err != nil {
			return err
		}
		seq = b.Custody.Seq
	}
	item := EvidenceItem{Input: b.Input, AddedAt: forensics.NewTime(b.AddedAt), AddedBy: b.AddedBy, CustodySeq: seq,
		Params: b.Params, Flows: int64(len(b.Flows)), Events: int64(len(b.Events))}
	js, err := json.Marshal(item)
	if err != nil {
		return err
	}
	evID, err := insertEvidence(ctx, tx, b.Input.SHA256, b.Input.Path, b.Input.Size, b.Input.Kind, b.AddedAt.UnixNano(), b.AddedBy, seq, string(js))
	if err != nil {
		return err
	}
	w := newRowWriter(ctx, tx)
	defer w.close()
	w.compress = true
	if err := writeBlocks(w, KindFlows, evID, b.Flows, flowKey, flowKind); err != nil {
		return err
	}
	if err := writeBlocks(w, KindEvents, evID, b.Events, eventKey, eventKind); err != nil {
		return err
	}
	return w.problemsAndCaps(evID, b)
}

// insertEvidence adds an evidence row (sha256, path, size, kind,
// added_at, added_by, custody_seq, json) and returns its id.
func insertEvidence(ctx context.Context, tx *sql.Tx, cols ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO evidence(sha256, path, size, kind, added_at, added_by, custody_seq, json) VALUES(?, ?, ?, ?, ?, ?, ?, ?)`, cols...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (w *rowWriter) problemsAndCaps(evID int64, b *Batch) error {
	for i := range b.Problems {
		if err := w.insertJSON(&w.problem, `INSERT INTO problems(evidence_id, json) VALUES(?, ?)`, evID, &b.Problems[i]); err != nil {
			return err
		}
	}
	for i := range b.Caps {
		if err := w.insertJSON(&w.capHit, `INSERT INTO caps(evidence_id, json) VALUES(?, ?)`, evID, &b.Caps[i]); err != nil {
			return err
		}
	}
	return w.err
}

// streamChunk is how many records of a kind a RecordWriter holds before
// it stores them: a multiple of blockRecords, so that blocks start where
// storing the whole input at once starts them.
const streamChunk = 128 * blockRecords

// RecordWriter takes one input's records as they are read, inside the
// transaction of AddEvidenceStream, and stores them streamChunk at a
// time: memory holds a chunk, not the input.
type RecordWriter struct {
	w               *rowWriter
	evID            int64
	chunk           int
	flows           []forensics.Flow
	events          []forensics.Event
	nFlows, nEvents int64
	err             error
}

// Flow stores f (its evidence and enrichment complete).
func (rw *RecordWriter) Flow(f forensics.Flow) {
	rw.flows = append(rw.flows, f)
	rw.nFlows++
	if len(rw.flows) == rw.chunk {
		rw.flush()
	}
}

// Event stores e (its evidence and enrichment complete).
func (rw *RecordWriter) Event(e forensics.Event) {
	rw.events = append(rw.events, e)
	rw.nEvents++
	if len(rw.events) == rw.chunk {
		rw.flush()
	}
}

// flush stores the records held: flows, then events.
func (rw *RecordWriter) flush() {
	if rw.err == nil && len(rw.flows) > 0 {
		rw.err = writeBlocks(rw.w, KindFlows, rw.evID, rw.flows, flowKey, flowKind)
	}
	if rw.err == nil && len(rw.events) > 0 {
		rw.err = writeBlocks(rw.w, KindEvents, rw.evID, rw.events, eventKey, eventKind)
	}
	clear(rw.flows)
	clear(rw.events)
	rw.flows, rw.events = rw.flows[:0], rw.events[:0]
}

// AddEvidenceStream is AddEvidence for an input read while it is stored:
// read hands its records to the RecordWriter as it reads them and
// returns the batch (input, problems, caps, custody; Flows and Events
// unused). sha is the input's SHA-256 taken before reading: the batch
// must name the same, or the input changed while it was read. Anything
// read returns an error for, or another hash, rolls the transaction back,
// so the case holds all of the input or none of it. It returns false,
// calling read not at all, when the case already holds sha.
func (f *File) AddEvidenceStream(ctx context.Context, sha string, read func(rw *RecordWriter) (*Batch, error)) (added bool, err error) {
	if f.readOnly {
		return false, ErrReadOnly
	}
	if sha == "" {
		return false, errors.New("add to case: no SHA-256")
	}
	var path string
	err = f.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM evidence WHERE sha256 = ?`, sha).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		added = true
		// The row first, for the blocks to refer to; completed at the end.
		evID, err := insertEvidence(ctx, tx, sha, "", 0, "", 0, "", 0, "{}")
		if err != nil {
			return err
		}
		w := newRowWriter(ctx, tx)
		defer w.close()
		w.compress = true
		rw := &RecordWriter{w: w, evID: evID, chunk: cmp.Or(f.chunk, streamChunk)}
		b, err := read(rw)
		if b != nil {
			path = b.Input.Path
		}
		if err != nil {
			return err
		}
		if b.Input.SHA256 != sha {
			return fmt.Errorf("SHA-256 %s while read, %s before: the input changed", b.Input.SHA256, sha)
		}
		if rw.flush(); rw.err != nil {
			return rw.err
		}
		seq := 0
		if b.Custody != nil {
			if err := appendCustody(ctx, tx, b.Custody); err != nil {
				return err
			}
			seq = b.Custody.Seq
		}
		item := EvidenceItem{Input: b.Input, AddedAt: forensics.NewTime(b.AddedAt), AddedBy: b.AddedBy, CustodySeq: seq,
			Params: b.Params, Flows: rw.nFlows, Events: rw.nEvents}
		js, err := json.Marshal(item)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE evidence SET path = ?, size = ?, kind = ?, added_at = ?, added_by = ?, custody_seq = ?, json = ? WHERE id = ?`,
			b.Input.Path, b.Input.Size, b.Input.Kind, b.AddedAt.UnixNano(), b.AddedBy, seq, string(js), evID)
		if err != nil {
			return err
		}
		return w.problemsAndCaps(evID, b)
	})
	if err != nil {
		return false, fmt.Errorf("add %s to case %s: %w", path, f.path, err)
	}
	return added, nil
}

// Blocks close at blockRecords records or blockBytes of JSON, whichever
// comes first: big enough that the per-row cost of SQLite vanishes, small
// enough that a query decodes little it does not need.
const (
	blockRecords = 512
	blockBytes   = 1 << 20
)

// rowWriter holds the prepared statements and the reused buffers of one
// transaction: the hot path of `case add`.
type rowWriter struct {
	ctx                  context.Context
	tx                   *sql.Tx
	blockStmt            *sql.Stmt
	problem, capHit, geo *sql.Stmt
	campStmt, linkStmt   *sql.Stmt
	chainStmt, hopStmt   *sql.Stmt
	buf                  bytes.Buffer
	enc                  *json.Encoder
	seenGeo              map[*enrich.Record]struct{}
	seenGeoJSON          map[string]struct{}
	compress             bool // blocks stored as codecS2 (else uncompressed)
	err                  error

	// the open block
	kind       string
	evID       any
	keys, js   []byte
	n          int
	tmin, tmax int64
}

func newRowWriter(ctx context.Context, tx *sql.Tx) *rowWriter {
	w := &rowWriter{ctx: ctx, tx: tx, seenGeo: map[*enrich.Record]struct{}{}, seenGeoJSON: map[string]struct{}{}}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false)
	return w
}

func (w *rowWriter) prepare(p **sql.Stmt, q string) *sql.Stmt {
	if *p == nil && w.err == nil {
		*p, w.err = w.tx.PrepareContext(w.ctx, q)
	}
	return *p
}

func (w *rowWriter) close() {
	for _, s := range []*sql.Stmt{w.blockStmt, w.problem, w.capHit, w.geo, w.campStmt, w.linkStmt, w.chainStmt, w.hopStmt} {
		if s != nil {
			s.Close()
		}
	}
}

// marshal encodes v as the commands print it (no HTML escaping), without
// the trailing newline. The returned string is a copy.
func (w *rowWriter) marshal(v any) (string, error) {
	w.buf.Reset()
	if err := w.enc.Encode(v); err != nil {
		return "", err
	}
	b := w.buf.Bytes()
	return string(b[:len(b)-1]), nil
}

// record adds one record to the open block of its kind, flushing the block
// when it is full or the kind or input changes.
func (w *rowWriter) record(kind string, evID any, k recKey, v any) error {
	if w.n > 0 && (kind != w.kind || evID != w.evID) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.kind, w.evID = kind, evID
	w.buf.Reset()
	var line []byte // JSON and its newline
	if s, ok := v.(*forensics.Session); ok {
		// The hand-written encoder (the same bytes), when it can.
		if b, ok := forensics.AppendSessionJSON(w.buf.AvailableBuffer(), s); ok {
			line = append(b, '\n')
		}
	}
	if line == nil {
		if err := w.enc.Encode(v); err != nil {
			return err
		}
		line = w.buf.Bytes()
	}
	k.jsonLen = len(line) - 1
	w.js = append(w.js, line...)
	w.keys = k.append(w.keys)
	if w.n == 0 || k.tStart < w.tmin {
		w.tmin = k.tStart
	}
	if w.n == 0 || k.tEnd > w.tmax {
		w.tmax = k.tEnd
	}
	if k.tStart > w.tmax {
		w.tmax = k.tStart
	}
	w.n++
	if w.n >= blockRecords || len(w.js) >= blockBytes {
		return w.flush()
	}
	return nil
}

func (w *rowWriter) flush() error {
	if w.n == 0 {
		return w.err
	}
	st := w.prepare(&w.blockStmt, insertBlock)
	if w.err != nil {
		return w.err
	}
	_, err := st.ExecContext(w.ctx, w.kind, w.evID, w.n, w.tmin, w.tmax, "", w.keys, w.js)
	w.keys, w.js, w.n = w.keys[:0], w.js[:0], 0
	return err
}

func (w *rowWriter) insertJSON(p **sql.Stmt, q string, evID int64, v any) error {
	st := w.prepare(p, q)
	if w.err != nil {
		return w.err
	}
	js, err := w.marshal(v)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(w.ctx, evID, js)
	return err
}

// enrichment stores a record's enrichment once per distinct result.
// Enrichers hand out cached records, so the pointer check skips nearly
// every repeat without marshalling.
func (w *rowWriter) enrichment(r *enrich.Record) error {
	if r == nil || !r.IP.IsValid() {
		return nil
	}
	if _, ok := w.seenGeo[r]; ok {
		return nil
	}
	w.seenGeo[r] = struct{}{}
	js, err := w.marshal(r)
	if err != nil {
		return err
	}
	return w.enrichmentJSON(r, js)
}

// enrichmentJSON stores one enrichment result given as its JSON, skipping
// results already stored by this transaction (the table's key skips the
// others).
func (w *rowWriter) enrichmentJSON(r *enrich.Record, js string) error {
	if _, ok := w.seenGeoJSON[js]; ok {
		return nil
	}
	w.seenGeoJSON[js] = struct{}{}
	st := w.prepare(&w.geo, `INSERT OR IGNORE INTO enrichment(ip, hash, asn, cc, json) VALUES(?, ?, ?, ?, ?)`)
	if w.err != nil {
		return w.err
	}
	sum := sha256.Sum256([]byte(js))
	asn, cc := geoCols(r)
	_, err := st.ExecContext(w.ctx, ipCol(r.IP), hex.EncodeToString(sum[:8]), asn, cc, js)
	return err
}

// Derived is what correlation computes over the whole case; it replaces
// the previous derived records as a whole.
type Derived struct {
	Sessions []forensics.Session
	// SessionStore, when set, gives the sessions instead of Sessions.
	SessionStore forensics.SessionStore
	Campaigns    []forensics.Campaign
	Chains       []forensics.Chain
	Databases    []enrich.DatabaseInfo
	// Meta, when set, replaces the case metadata in the same transaction
	// (parameters and tool of the latest correlation).
	Meta    *Meta
	Custody *forensics.CustodyEntry
}

// ReplaceDerived deletes the sessions, campaigns, links, chains, hops and
// the database list of the case and stores d's instead, in one transaction.
func (f *File) ReplaceDerived(ctx context.Context, d *Derived) error {
	if f.readOnly {
		return ErrReadOnly
	}
	err := f.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM blocks WHERE kind = 'sessions'`, "DELETE FROM campaigns", "DELETE FROM links", "DELETE FROM chains", "DELETE FROM hops"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		w := newRowWriter(ctx, tx)
		defer w.close()
		if err := w.derived(d); err != nil {
			return err
		}
		if d.Meta != nil {
			if err := putMeta(ctx, tx, *d.Meta); err != nil {
				return err
			}
		}
		if d.Custody != nil {
			return appendCustody(ctx, tx, d.Custody)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store derived records in %s: %w", f.path, err)
	}
	return nil
}

func (w *rowWriter) derived(d *Derived) error {
	campaignOf := map[string]string{}
	for _, c := range d.Campaigns {
		for _, s := range c.Sessions {
			campaignOf[s] = c.ID
		}
	}
	c := forensics.Case{Sessions: d.Sessions, SessionStore: d.SessionStore}
	err := c.EachSession(func(s *forensics.Session) error {
		if err := w.record(KindSessions, nil, sessionKey(s, campaignOf[s.ID]), s); err != nil {
			return fmt.Errorf("session %s: %w", s.ID, err)
		}
		return w.enrichment(s.SrcGeo)
	})
	if err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	for i := range d.Campaigns {
		c := &d.Campaigns[i]
		st := w.prepare(&w.campStmt, `INSERT INTO campaigns(rec_id, score, first_seen, last_seen, json) VALUES(?, ?, ?, ?, ?)`)
		if w.err != nil {
			return w.err
		}
		js, err := w.marshal(c)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, c.ID, c.Score, unixNano(c.FirstSeen), unixNano(c.LastSeen), js); err != nil {
			return fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		for j := range c.Links {
			l := &c.Links[j]
			st := w.prepare(&w.linkStmt, `INSERT INTO links(campaign, rule, attribute, value, weight, json) VALUES(?, ?, ?, ?, ?, ?)`)
			if w.err != nil {
				return w.err
			}
			js, err := w.marshal(l)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(w.ctx, c.ID, l.Rule, l.Attribute, l.Value, l.Weight, js); err != nil {
				return err
			}
		}
		for j := range c.Hops {
			if err := w.hops(&c.Hops[j], c.ID); err != nil {
				return err
			}
		}
	}
	for i := range d.Chains {
		ch := &d.Chains[i]
		st := w.prepare(&w.chainStmt, `INSERT INTO chains(rec_id, json) VALUES(?, ?)`)
		if w.err != nil {
			return w.err
		}
		js, err := w.marshal(ch)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, ch.ID, js); err != nil {
			return err
		}
		if err := w.hops(ch, ""); err != nil {
			return err
		}
	}
	if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM databases`); err != nil {
		return err
	}
	for i, db := range d.Databases {
		js, err := w.marshal(db)
		if err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO databases(ord, json) VALUES(?, ?)`, i, js); err != nil {
			return err
		}
	}
	return w.err
}

func (w *rowWriter) hops(ch *forensics.Chain, campaign string) error {
	for k := range ch.Hops {
		h := &ch.Hops[k]
		st := w.prepare(&w.hopStmt, `INSERT INTO hops(chain, campaign, ip, role, json) VALUES(?, ?, ?, ?, ?)`)
		if w.err != nil {
			return w.err
		}
		js, err := w.marshal(h)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, ch.ID, nullStr(campaign), ipCol(h.IP), h.Role, js); err != nil {
			return err
		}
		if err := w.enrichment(h.Geo); err != nil {
			return err
		}
	}
	return nil
}

// ipCol is the 16-byte form of an address (IPv4 as IPv4-mapped IPv6), so
// that SQLite's memcmp order on blobs is address order and a prefix is a
// contiguous range. The zone is dropped.
func ipCol(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	b := a.As16()
	return b[:]
}

func geoCols(r *enrich.Record) (asn, cc any) {
	if r == nil {
		return nil, nil
	}
	if r.ASN != 0 {
		asn = int64(r.ASN)
	}
	if r.Country != "" {
		cc = r.Country
	}
	return asn, cc
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
