package analyze

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
	"github.com/tracehop/tracehop/forensics/report"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

// SessionItemChunk is how many session items StreamSessions sorts in
// memory before it spills them (a few hundred bytes each).
const SessionItemChunk = 1 << 17

// StreamSessions is the sessions stage of Run (`tracehop sessions`) in
// memory bounded by the sessions open at a time, not by the evidence:
// each input's records become session items as they are read
// (session.Item: what grouping needs of a record), sorted externally
// (extsort.Sorter), and grouped by a session.Stream that ends sessions as
// their idle gap passes; ended sessions go to a spool of JSON lines read
// back in output order. The sessions are those session.Build makes of
// the same inputs, byte for byte (TestStreamSessionsMatchesRun). The
// Case holds the inputs, problems, caps and databases, not the records
// or sessions; the spool is nil when the run failed before grouping.
// cols, when not nil, collects the sessions' CSV columns.
func StreamSessions(ctx context.Context, aopts Options, cols *report.CSVColumns) (*SessionSpool, *forensics.Case, error) {
	return streamSessions(ctx, aopts, cols, SessionItemChunk)
}

// streamSessions is StreamSessions with the item chunk size.
func streamSessions(ctx context.Context, aopts Options, cols *report.CSVColumns, chunk int) (*SessionSpool, *forensics.Case, error) {
	sp, err := newSessionSpool(cols, chunk)
	if err != nil {
		return nil, nil, err
	}
	c, err := groupSessions(ctx, aopts, chunk, false, nil, sp.add, func() error { return sp.err })
	if c == nil || (err != nil && !errors.Is(err, ErrInput)) {
		sp.Close()
		return nil, c, err
	}
	if ferr := sp.finish(); ferr != nil {
		sp.Close()
		return nil, c, ferr
	}
	return sp, c, err
}

// StreamCampaigns is Run up to StageCampaigns or StageAll (`tracehop
// campaigns` and `trace --campaign`) in the memory of StreamSessions:
// sessions go from the grouping straight into the campaign grouping,
// whose compact state is all it keeps of them (it does not depend on
// the order sessions come in: TestDeterministicShuffled), and hop chains
// are built from the records they need alone: events with a forwarded-for
// path, kept as Run keeps them, and flows through a relay (the flows are
// spooled and read twice: trace.BuildCapsEach). The Case holds the
// campaigns and chains (Run's, byte for byte:
// TestStreamCampaignsMatchesRun), those events and the provenance.
func StreamCampaigns(ctx context.Context, aopts Options) (*forensics.Case, error) {
	return streamCampaigns(ctx, aopts, SessionItemChunk)
}

func streamCampaigns(ctx context.Context, aopts Options, chunk int) (*forensics.Case, error) {
	b := campaign.NewBuilder(campaignOptions(aopts))
	chains := aopts.Until >= StageAll
	var sp *recordSpools
	if chains {
		sp = &recordSpools{flows: newSpooledFlows(chunk), proxied: newSpooledEvents(chunk)}
		defer sp.close()
	}
	c, err := groupSessions(ctx, aopts, chunk, chains, sp, b.Add, func() error { return nil })
	if c == nil || (err != nil && !errors.Is(err, ErrInput)) {
		return c, err
	}
	c.Campaigns, _ = b.Finish()
	if chains {
		c.FlowStore = sp.flows
		err = errors.Join(err, buildChains(c, aopts, sp.proxied))
		c.FlowStore = nil
	}
	return c, errors.Join(err, ctx.Err())
}

// TraceRecords is `tracehop trace` without --campaign: Run to
// StageIngest, then the hop chains (Case.Chains, and their caps hit)
// built from the records they need alone, spooled on disk as they are
// read and read back in Correlate's order: the events with a
// forwarded-for path, and the flows through a relay (trace.BuildCapsEach),
// hashed and enriched as Run does them. (Chains keep the evidence of the
// first records of each path; a capture's flows arrive in the order its
// flow-table shards end them, so unsorted records could give other
// evidence from run to run.) The Case holds no records. The returned
// error joins unusable inputs as Run's does.
func TraceRecords(ctx context.Context, aopts Options) (*forensics.Case, error) {
	sp := &recordSpools{flows: newSpooledFlows(SpooledEventsChunk), proxied: newSpooledEvents(SpooledEventsChunk)}
	defer sp.close()
	c, inputErr, err := ingestCase(ctx, aopts, func(i int) *itemSink {
		return &itemSink{keep: true, flows: sp.flows, proxied: sp.proxied, input: int32(i)}
	})
	if err != nil {
		return c, err
	}
	sums := make([]string, len(c.Inputs))
	for i := range c.Inputs {
		sums[i] = c.Inputs[i].SHA256
	}
	sp.readAs(sums, aopts.Enricher)
	SortRecords(c)
	var caps []forensics.CapHit
	c.Chains, caps, err = trace.BuildCapsEach(sp.proxied.Each, sp.flows.Each, nil, TraceOptions(aopts))
	if err != nil {
		return c, fmt.Errorf("hop chains: %w", err)
	}
	c.Caps = append(c.Caps, caps...)
	return c, inputErr
}

// recordSpools hold on disk what groupSessions (or TraceRecords) would
// otherwise hold in the Case: every event (events, for the report), every
// flow (flows), and the events hop chains read (proxied: those with a
// forwarded-for path; behind a CDN, every one). Nil spools are not used.
type recordSpools struct {
	events, proxied *SpooledEvents
	flows           *SpooledFlows
}

// readAs gives the spools what their records get back as they are read,
// as Run's records have them: the inputs' SHA-256 sums by input index,
// and enrichment by e (nil: none).
func (sp *recordSpools) readAs(sums []string, e *enrich.Enricher) {
	for _, s := range [...]*SpooledEvents{sp.events, sp.proxied} {
		if s != nil {
			s.sums, s.enr = sums, e
		}
	}
	if sp.flows != nil {
		sp.flows.sums, sp.flows.enr = sums, e
	}
}

// close removes the spools' files (a spool handed to a Case is the
// Case's to release instead).
func (sp *recordSpools) close() {
	if sp.events != nil {
		sp.events.Close()
	}
	if sp.proxied != nil {
		sp.proxied.Close()
	}
	if sp.flows != nil {
		sp.flows.Close()
	}
}

// groupSessions reads every input into session items, sorts them
// externally (chunk items in memory) and groups them with a
// session.Stream that hands each ended session to emit; failed is polled
// for emit's error. With keep, the Case also holds the records hop chains
// need (itemSink), or with spools, its spools take every event (events),
// every flow (flows, not held) and the kept events (proxied, not held);
// they get the inputs' SHA-256 sums. The Case is nil, or the error not
// ErrInput alone, when the run failed.
func groupSessions(ctx context.Context, aopts Options, chunk int, keep bool, spools *recordSpools, emit func(*forensics.Session), failed func() error) (*forensics.Case, error) {
	sorter := newItemSorter(chunk)
	defer sorter.Cleanup()
	c, inputErr, err := ingestCase(ctx, aopts, func(i int) *itemSink {
		k := &itemSink{s: sorter, keep: keep, input: int32(i)}
		if spools != nil {
			k.events, k.flows, k.proxied = spools.events, spools.flows, spools.proxied
		}
		return k
	})
	if err != nil {
		return c, err
	}
	// sums[i] is input i's SHA-256 (c.Inputs is in input order until
	// sorted): the items carry none and get it back as they come out of
	// the sort.
	sums := make([]string, len(c.Inputs))
	for i := range c.Inputs {
		sums[i] = c.Inputs[i].SHA256
	}
	if spools != nil {
		spools.readAs(sums, aopts.Enricher)
	}
	SortRecords(c) // and the records kept
	st := session.NewStream(aopts.Session, emit)
	if e := aopts.Enricher; e != nil {
		// As enrichResult does for the first record of the session.
		st.Geo = func(ip netip.Addr, at time.Time) *enrich.Record { return e.LookupShared(ip, at) }
	}
	err = feedStream(ctx, sorter, st, func(si *sortItem) error {
		si.it.Evidence.SHA256 = sums[si.input]
		return failed()
	})
	if err != nil {
		return c, err
	}
	if err := failed(); err != nil {
		return c, err
	}
	return c, inputErr
}

// feedStream hands the sorted items to st in order and closes it;
// restore gives each item back what its spill dropped (and may stop the
// feed with an error). ctx is polled every 4096 items.
func feedStream(ctx context.Context, sorter *extsort.Sorter[sortItem], st *session.Stream, restore func(*sortItem) error) error {
	n := 0
	err := sorter.Each(func(si *sortItem) error {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := restore(si); err != nil {
			return err
		}
		st.Add(&si.it)
		return nil
	})
	if err != nil {
		return err
	}
	st.Close()
	return nil
}

// SessionSpool holds a run's sessions as JSON lines in a temporary file,
// and their places in the output order in an external sort, to be read
// back in that order: sessions end out of order.
type SessionSpool struct {
	f    *os.File
	bw   *bufio.Writer
	enc  *json.Encoder
	buf  bytes.Buffer
	line []byte
	cols *report.CSVColumns
	keys *extsort.Sorter[sessionKey]
	n    int
	off  int64
	err  error
}

// sessionKey is a spooled session's place in the output order (start,
// then ID) and in the spool.
type sessionKey struct {
	sec  int64
	nsec int32
	len  int32
	off  int64
	id   string
}

func compareSessionKeys(a, b *sessionKey) int {
	return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), strings.Compare(a.id, b.id), cmp.Compare(a.off, b.off))
}

func appendSessionKey(dst []byte, k *sessionKey) []byte {
	dst = binary.AppendVarint(dst, k.sec)
	dst = binary.AppendUvarint(dst, uint64(k.nsec))
	dst = binary.AppendUvarint(dst, uint64(k.len))
	dst = binary.AppendUvarint(dst, uint64(k.off))
	return append(dst, k.id...)
}

func decodeSessionKey(b []byte, k *sessionKey) error {
	r := &itemReader{b: b}
	sec, nsec, n, off := r.varint(), r.uvarint(), r.uvarint(), r.uvarint()
	if r.err != nil || nsec >= 1e9 || n > 1<<30 || off > 1<<62 {
		return errCorruptItem
	}
	*k = sessionKey{sec: sec, nsec: int32(nsec), len: int32(n), off: int64(off), id: string(r.b)}
	return nil
}

func newSessionSpool(cols *report.CSVColumns, chunk int) (*SessionSpool, error) {
	f, err := extsort.CreateTemp("tracehop-sessions-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("sessions spool: %w", err)
	}
	sp := &SessionSpool{f: f, bw: bufio.NewWriterSize(f, 1<<20), cols: cols,
		keys: &extsort.Sorter[sessionKey]{Chunk: chunk, What: "sessions order", Cmp: compareSessionKeys, Enc: appendSessionKey, Dec: decodeSessionKey}}
	// The encoding of report.WriteRecords.
	sp.enc = json.NewEncoder(&sp.buf)
	sp.enc.SetEscapeHTML(false)
	return sp, nil
}

// add spools one ended session.
func (sp *SessionSpool) add(s *forensics.Session) {
	if sp.err != nil {
		return
	}
	// The bytes of report.WriteRecords (encoding/json), written without
	// reflection where forensics can (TestRecordJSONExact holds the two
	// equal).
	line, ok := forensics.AppendSessionJSON(sp.line[:0], s)
	if ok {
		line = append(line, '\n')
		sp.line = line
	} else {
		sp.buf.Reset()
		if err := sp.enc.Encode(s); err != nil {
			sp.err = fmt.Errorf("sessions spool: session %s: %w", s.ID, err)
			return
		}
		line = sp.buf.Bytes()
	}
	if sp.cols != nil {
		if err := sp.cols.Add(report.CompactJSON(line)); err != nil {
			sp.err = fmt.Errorf("sessions spool: session %s: %w", s.ID, err)
			return
		}
	}
	if _, err := sp.bw.Write(line); err != nil {
		sp.err = fmt.Errorf("sessions spool: %w", err)
		return
	}
	sp.keys.Add(sessionKey{sec: s.Start.Unix(), nsec: int32(s.Start.Nanosecond()), len: int32(len(line)), off: sp.off, id: strings.Clone(s.ID)})
	sp.off += int64(len(line))
	sp.n++
}

func (sp *SessionSpool) finish() error {
	if sp.err != nil {
		return sp.err
	}
	if err := sp.bw.Flush(); err != nil {
		return fmt.Errorf("sessions spool: %w", err)
	}
	return nil
}

// Len is the number of sessions.
func (sp *SessionSpool) Len() int { return sp.n }

// Columns are the CSV columns collected, or nil.
func (sp *SessionSpool) Columns() *report.CSVColumns { return sp.cols }

// Each calls fn with every session's JSON line (newline included) in
// output order; the line is fn's only for the call. It may be called
// again (each call reads the spool from the start).
func (sp *SessionSpool) Each(fn func(line []byte) error) error {
	var buf []byte
	return sp.keys.Each(func(k *sessionKey) error {
		buf = slices.Grow(buf[:0], int(k.len))[:k.len]
		if _, err := sp.f.ReadAt(buf, k.off); err != nil {
			return fmt.Errorf("sessions spool: %w", err)
		}
		return fn(buf)
	})
}

// Close removes the spool.
func (sp *SessionSpool) Close() error {
	sp.keys.Cleanup()
	return extsort.RemoveTemp(sp.f)
}
