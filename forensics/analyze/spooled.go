package analyze

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
)

// SpooledEventsChunk is how many events (or sessions) a spool sorts in
// memory before it spills them (their binary form, a few hundred bytes
// each).
const SpooledEventsChunk = 1 << 16

// RunSpooled is Run for `tracehop analyze`, in memory bounded by the
// sessions, campaigns and distinct addresses rather than by the
// evidence: the events go to SpooledEvents on disk as they are read and
// the Case serves them from it (Case.EventStore; Events stays empty);
// sessions are grouped from items as StreamSessions groups them, fed to
// the campaign grouping as StreamCampaigns does and spooled too
// (Case.SessionStore); hop chains come from the records they need
// (events with a forwarded-for path, and flows through a relay, read
// from the flow spool, Case.FlowStore). The Case holds the campaigns and
// chains. It renders the bytes Run's Case renders
// (TestRunSpooledMatchesRun). Release the Case when done with it.
func RunSpooled(ctx context.Context, aopts Options) (*forensics.Case, error) {
	return runSpooled(ctx, aopts, SessionItemChunk, SpooledEventsChunk)
}

func runSpooled(ctx context.Context, aopts Options, itemChunk, eventChunk int) (*forensics.Case, error) {
	spools := &recordSpools{events: newSpooledEvents(eventChunk), flows: newSpooledFlows(eventChunk), proxied: newSpooledEvents(eventChunk)}
	ss := newSpooledSessions(eventChunk, aopts.Enricher)
	b := campaign.NewBuilder(campaignOptions(aopts))
	emit := func(s *forensics.Session) {
		b.Add(s)
		ss.add(s)
	}
	c, err := groupSessions(ctx, aopts, itemChunk, true, spools, emit, func() error { return nil })
	if c == nil || (err != nil && !errors.Is(err, ErrInput)) {
		spools.close()
		ss.Close()
		return c, err
	}
	c.Campaigns, _ = b.Finish()
	c.Flows, c.FlowStore = nil, spools.flows
	if cerr := buildChains(c, aopts, spools.proxied); cerr != nil {
		err = errors.Join(err, cerr)
	}
	// The events with a forwarded-for path served hop chains only.
	spools.proxied.Close()
	c.Events, c.EventStore, c.SessionStore = nil, spools.events, ss
	return c, errors.Join(err, ctx.Err())
}

// SpooledEvents holds a run's events on disk in the order SortRecords gives
// them (time, then ID; ties in input and reading order), for a Case too
// large to hold them (forensics.EventStore). Events go in as they are
// read, without their input's SHA-256 (known at its end) or enrichment;
// both are filled as they come back out, as ingestOne and enrichResult
// fill them. Events read back from a case file keep theirs (geos).
type SpooledEvents struct {
	s    *extsort.Sorter[spooledEvent]
	n    atomic.Int64
	sums []string // input i's SHA-256
	enr  *enrich.Enricher
	geos *geoTable // the stored enrichment of events read from a case file
}

// spooledEvent is one event's place in the order and the event
// (appendEventBin; without its SHA-256, unknown when it is read).
type spooledEvent struct {
	sec   int64
	nsec  int32
	input int32
	seq   int64
	geo   uint32 // a stored enrichment (geoTable index + 1), or 0
	id    string
	rec   []byte
}

func newSpooledEvents(chunk int) *SpooledEvents {
	return &SpooledEvents{s: &extsort.Sorter[spooledEvent]{Chunk: chunk, What: "events", Cmp: compareSpooledEvents, Enc: appendSpooledEvent, Dec: decodeSpooledEvent}}
}

func compareSpooledEvents(a, b *spooledEvent) int {
	return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), strings.Compare(a.id, b.id),
		cmp.Compare(a.input, b.input), cmp.Compare(a.seq, b.seq))
}

func appendSpooledEvent(dst []byte, v *spooledEvent) []byte {
	dst = binary.AppendVarint(dst, v.sec)
	dst = binary.AppendUvarint(dst, uint64(v.nsec))
	dst = binary.AppendVarint(dst, int64(v.input))
	dst = binary.AppendVarint(dst, v.seq)
	dst = binary.AppendUvarint(dst, uint64(v.geo))
	dst = binary.AppendUvarint(dst, uint64(len(v.id)))
	dst = append(dst, v.id...)
	return append(dst, v.rec...)
}

// decodeSpooledEvent reads a spilled event; its rec is b's, valid until
// the run's next read.
func decodeSpooledEvent(b []byte, v *spooledEvent) error {
	r := &itemReader{b: b}
	sec, nsec, input, seq, geo := r.varint(), r.uvarint(), r.varint(), r.varint(), r.uvarint()
	id := r.bytes()
	if r.err != nil || nsec >= 1e9 || input < 0 || input >= 1<<31 || geo >= 1<<32 {
		return errCorruptItem
	}
	*v = spooledEvent{sec: sec, nsec: int32(nsec), input: int32(input), seq: seq, geo: uint32(geo), id: string(id), rec: r.b}
	return nil
}

// add spools event e of input at its place seq in the input's reading
// order. Safe for concurrent use.
func (sp *SpooledEvents) add(input int32, seq int64, e *forensics.Event) {
	sp.addGeo(input, seq, e, 0)
}

// addGeo is add for an event with a stored enrichment (geo: its geoTable
// index + 1; 0: none stored, looked up again when an enricher is set).
func (sp *SpooledEvents) addGeo(input int32, seq int64, e *forensics.Event, geo uint32) {
	sp.s.Add(spooledEvent{sec: e.Time.Unix(), nsec: int32(e.Time.Nanosecond()), input: input, seq: seq, geo: geo, id: e.ID, rec: appendEventBin(nil, e)})
	sp.n.Add(1)
}

// Len is the number of events.
func (sp *SpooledEvents) Len() int { return int(sp.n.Load()) }

// Each calls fn with every event in order, with its input's SHA-256 and
// its enrichment (the enricher's shared record, as Run's events hold).
// It may be called again: each call reads the spool from the start.
func (sp *SpooledEvents) Each(fn func(*forensics.Event) error) error {
	var e forensics.Event
	return sp.s.Each(func(v *spooledEvent) error {
		if err := decodeEventBin(v.rec, &e); err != nil {
			return fmt.Errorf("events spool: event %s: %w", v.id, err)
		}
		if int(v.input) < len(sp.sums) {
			e.Evidence.SHA256 = sp.sums[v.input]
		}
		switch {
		case v.geo > 0:
			e.SrcGeo = sp.geos.record(v.geo)
		case sp.enr != nil:
			if ip := e.Actor(); ip.IsValid() {
				e.SrcGeo = sp.enr.LookupShared(ip, e.Time.Time)
			}
		}
		return fn(&e)
	})
}

// Release removes what c keeps on disk (the spools of RunSpooled).
func Release(c *forensics.Case) error {
	var errs []error
	if sp, ok := c.EventStore.(*SpooledEvents); ok {
		errs = append(errs, sp.Close())
	}
	if sp, ok := c.FlowStore.(*SpooledFlows); ok {
		errs = append(errs, sp.Close())
	}
	if sp, ok := c.SessionStore.(*SpooledSessions); ok {
		errs = append(errs, sp.Close())
	}
	return errors.Join(errs...)
}

// SpooledSessions holds a run's sessions on disk in output order (start,
// then ID: session.CompareSessions), for a Case too large to hold them
// (forensics.SessionStore). Sessions end out of order; each goes in as
// it ends, without its enrichment, looked up again as it comes back out
// (the record the grouping looked up: the address as of the start).
type SpooledSessions struct {
	s    *extsort.Sorter[spooledSession]
	n    int
	enr  *enrich.Enricher
	geos *geoTable // the stored enrichment of sessions read from a case file
}

type spooledSession struct {
	sec  int64
	nsec int32
	seq  int64  // the order sessions came in (sessions read from a case file keep it)
	geo  uint32 // a stored enrichment (geoTable index + 1), or 0
	id   string
	rec  []byte // appendSessionBin
}

func newSpooledSessions(chunk int, enr *enrich.Enricher) *SpooledSessions {
	return &SpooledSessions{enr: enr, s: sessionSorter(chunk, func(a, b *spooledSession) int {
		return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), strings.Compare(a.id, b.id))
	})}
}

// newStoredSessions is a spool of sessions read back from a case file:
// in the order they come in (the order they were stored in), each with
// its stored enrichment.
func newStoredSessions(chunk int, geos *geoTable) *SpooledSessions {
	return &SpooledSessions{geos: geos, s: sessionSorter(chunk, func(a, b *spooledSession) int { return cmp.Compare(a.seq, b.seq) })}
}

func sessionSorter(chunk int, order func(a, b *spooledSession) int) *extsort.Sorter[spooledSession] {
	return &extsort.Sorter[spooledSession]{Chunk: chunk, What: "sessions", Cmp: order,
		Enc: func(dst []byte, v *spooledSession) []byte {
			dst = binary.AppendVarint(dst, v.sec)
			dst = binary.AppendUvarint(dst, uint64(v.nsec))
			dst = binary.AppendVarint(dst, v.seq)
			dst = binary.AppendUvarint(dst, uint64(v.geo))
			dst = binary.AppendUvarint(dst, uint64(len(v.id)))
			dst = append(dst, v.id...)
			return append(dst, v.rec...)
		},
		Dec: func(b []byte, v *spooledSession) error {
			r := &itemReader{b: b}
			sec, nsec, seq, geo := r.varint(), r.uvarint(), r.varint(), r.uvarint()
			id := r.bytes()
			if r.err != nil || nsec >= 1e9 || geo >= 1<<32 {
				return errCorruptItem
			}
			*v = spooledSession{sec: sec, nsec: int32(nsec), seq: seq, geo: uint32(geo), id: string(id), rec: r.b}
			return nil
		}}
}

// add spools one ended session (not safe for concurrent use: the
// grouping hands sessions over one at a time).
func (sp *SpooledSessions) add(s *forensics.Session) {
	sp.addGeo(s, 0)
}

// addGeo spools a session with a stored enrichment (geo: its geoTable
// index + 1).
func (sp *SpooledSessions) addGeo(s *forensics.Session, geo uint32) {
	sp.n++
	sp.s.Add(spooledSession{sec: s.Start.Unix(), nsec: int32(s.Start.Nanosecond()), seq: int64(sp.n), geo: geo, id: s.ID, rec: appendSessionBin(nil, s)})
}

// Len is the number of sessions.
func (sp *SpooledSessions) Len() int { return sp.n }

// Each calls fn with every session in order; it may be called again.
func (sp *SpooledSessions) Each(fn func(*forensics.Session) error) error {
	var s forensics.Session
	return sp.s.Each(func(v *spooledSession) error {
		geo, err := decodeSessionBin(v.rec, &s)
		if err != nil {
			return fmt.Errorf("sessions spool: session %s: %w", v.id, err)
		}
		switch {
		case v.geo > 0:
			s.SrcGeo = sp.geos.record(v.geo)
		case geo && sp.enr != nil:
			s.SrcGeo = sp.enr.LookupShared(s.SrcIP, s.Start.Time)
		}
		return fn(&s)
	})
}

// Close removes the spool's files.
func (sp *SpooledSessions) Close() error {
	sp.s.Cleanup()
	return nil
}

// Close removes the spool's files.
func (sp *SpooledEvents) Close() error {
	sp.s.Cleanup()
	return nil
}

// geoTable interns the enrichment records stored with a case file's
// records: one decoded record per distinct JSON, shared by every record
// that carries it (as Load's records share theirs), held while the spools
// are; a record refers to it by index + 1. The JSON is known by its
// SHA-256, not kept: with an address per record (a scan, a botnet) the
// stored JSON of 200k addresses held 150 MB as map keys.
type geoTable struct {
	index map[[sha256.Size]byte]uint32
	recs  []*enrich.Record
	of    map[*enrich.Record]uint32
	// Interned strings and field lists of the records (share).
	strs   map[string]string
	fields map[string][]string
	// The last JSON hashed and its sum: known and intern are called in
	// turn on one record's enrichment (compared by content: line buffers
	// are reused).
	last    []byte
	lastSum [sha256.Size]byte
}

func (t *geoTable) sum(raw []byte) [sha256.Size]byte {
	if t.last == nil || !bytes.Equal(raw, t.last) {
		t.last, t.lastSum = append(t.last[:0], raw...), sha256.Sum256(raw)
	}
	return t.lastSum
}

// known says whether raw was interned already.
func (t *geoTable) known(raw []byte) bool {
	_, ok := t.index[t.sum(raw)]
	return ok
}

// intern returns raw's index + 1, or 0 for no record (absent or null).
func (t *geoTable) intern(raw []byte) (uint32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	k := t.sum(raw)
	if i, ok := t.index[k]; ok {
		return i, nil
	}
	r := new(enrich.Record)
	if err := json.Unmarshal(raw, r); err != nil {
		return 0, fmt.Errorf("stored enrichment: %w", err)
	}
	t.share(r)
	if t.index == nil {
		t.index = map[[sha256.Size]byte]uint32{}
	}
	t.recs = append(t.recs, r)
	i := uint32(len(t.recs))
	t.index[k] = i
	if t.of == nil {
		t.of = map[*enrich.Record]uint32{}
	}
	t.of[r] = i
	return i, nil
}

// share makes r's provenance and class strings (the same few across a
// case: database names, builds, hashes, field lists) the table's copies,
// so that each distinct address holds its own values only.
func (t *geoTable) share(r *enrich.Record) {
	if t.strs == nil {
		t.strs, t.fields = map[string]string{}, map[string][]string{}
	}
	str := func(p *string) {
		if v, ok := t.strs[*p]; ok {
			*p = v
		} else if len(t.strs) < 1<<12 {
			t.strs[*p] = *p
		}
	}
	str(&r.Class)
	str(&r.Embedding)
	str(&r.Country)
	str(&r.RegisteredCountry)
	str(&r.CountryName)
	// A decoded record owns its list (List returns it, not a copy); one
	// from a lookup has compact sources, whose strings are shared already.
	list := r.Sources.List()
	for i := range list {
		src := &list[i]
		str(&src.DB)
		str(&src.Type)
		str(&src.Build)
		str(&src.SHA256)
		key := strings.Join(src.Fields, "\x00")
		if v, ok := t.fields[key]; ok {
			src.Fields = v
		} else if len(t.fields) < 1<<12 {
			t.fields[key] = src.Fields
		}
	}
}

// indexOf is the index + 1 of a record the table handed out, 0 for any
// other (nil included).
func (t *geoTable) indexOf(r *enrich.Record) uint32 {
	return t.of[r]
}

func (t *geoTable) record(i uint32) *enrich.Record {
	if t == nil || i == 0 || int(i) > len(t.recs) {
		return nil
	}
	return t.recs[i-1]
}
