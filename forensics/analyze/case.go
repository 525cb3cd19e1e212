package analyze

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/casefile"
	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/session"
)

// CaseOptions say who adds to a case and how it is logged.
type CaseOptions struct {
	// User is the OS user recorded in evidence items and custody entries.
	User string
	// Tool is this build; its version goes into every custody entry.
	Tool forensics.ToolInfo
	// Args is the command line recorded in the custody log.
	Args []string
	// Now is the clock of custody entries and evidence items (nil: wall
	// clock; tests pin it).
	Now func() time.Time
	// Action names the command in the custody log (default "case add").
	Action string
	// Added, when set, is told about each input as it is stored or skipped.
	Added func(in forensics.Input, added bool)
}

func (o CaseOptions) now() forensics.Time {
	if o.Now != nil {
		return forensics.NewTime(o.Now())
	}
	return forensics.NewTime(time.Now())
}

// AddResult says what AddToCase did with each input.
type AddResult struct {
	// Added are the inputs stored by this call, in input order.
	Added []forensics.Input
	// Present are inputs already in the case (same SHA-256), not read again.
	Present []forensics.Input
	// Failed are inputs that could not be read (not stored, so a later
	// run tries them again).
	Failed []forensics.Input
	// Caps are the limits the correlation of the whole case reached
	// (trace.max_chains and the like), stored in the case's metadata.
	Caps []forensics.CapHit
}

// AddToCase adds opts.Inputs to the case at casePath and recomputes the
// derived records over the whole case.
//
// Each input is hashed first; one whose SHA-256 the case already holds is
// not read again (adding is idempotent). Every other input is ingested
// through Ingest and stored with its custody entry in one transaction, so
// an interruption (Ctrl-C, kill -9, power loss) leaves the case as it was
// before that input and a re-run continues with the rest. Then sessions,
// campaigns and chains are rebuilt with Correlate over every record in the
// case and replace the old ones, in one more transaction with the custody
// entry of the command.
//
// Inputs that cannot be read are listed in the result and their errors
// returned joined (wrapping ErrInput) after everything else was done.
func AddToCase(ctx context.Context, casePath string, opts Options, co CaseOptions) (*AddResult, error) {
	cf, err := casefile.Open(ctx, casePath, casefile.OpenOptions{Write: true})
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	meta, err := cf.Meta(ctx)
	if err != nil {
		return nil, err
	}
	files, err := walkEvidence(opts.Inputs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	res := &AddResult{}
	var inputErrs []error
	var todo []string
	sums := map[string]string{} // a file's SHA-256 before reading
	for _, f := range files {
		if f == "-" {
			todo = append(todo, f) // stdin is hashed as it is read
			continue
		}
		sum, size, err := evidence.HashFile(f)
		if err != nil {
			in := forensics.Input{Path: f, Error: err.Error()}
			res.Failed = append(res.Failed, in)
			inputErrs = append(inputErrs, fmt.Errorf("%w: %w", ErrInput, err))
			continue
		}
		ok, err := cf.HasEvidence(ctx, sum)
		if err != nil {
			return res, err
		}
		if ok {
			in := forensics.Input{Path: f, Size: size, SHA256: sum}
			res.Present = append(res.Present, in)
			if co.Added != nil {
				co.Added(in, false)
			}
			continue
		}
		todo = append(todo, f)
		sums[f] = sum
	}

	params := Params(opts)
	// batch is what a read input stores besides its records, with its
	// custody entry; nil when it was never hashed to the end (nothing
	// trustworthy to store).
	batch := func(r *InputResult) *casefile.Batch {
		if r.Input.SHA256 == "" {
			res.Failed = append(res.Failed, r.Input)
			inputErrs = append(inputErrs, r.Err)
			return nil
		}
		if r.Err != nil {
			inputErrs = append(inputErrs, r.Err)
		}
		entry := forensics.CustodyEntry{
			Time: co.now(), Action: "ingest", Args: co.Args, ToolVersion: toolString(co.Tool), User: co.User,
			Inputs: []forensics.FileHash{{Path: r.Input.Path, Size: r.Input.Size, SHA256: r.Input.SHA256}},
		}
		b := &casefile.Batch{Input: r.Input, AddedAt: entry.Time.Time, AddedBy: co.User, Params: params,
			Flows: r.Flows, Events: r.Events, Problems: r.Problems, Caps: r.Caps, Custody: &entry}
		if r.Err != nil && len(r.Problems) == 0 {
			b.Problems = []forensics.Problem{{File: r.Input.Path, Reason: r.Input.Error}}
		}
		return b
	}
	stored := func(in forensics.Input, added bool) {
		if added {
			res.Added = append(res.Added, in)
		} else {
			res.Present = append(res.Present, in)
		}
		if co.Added != nil {
			co.Added(in, added)
		}
	}
	for _, f := range todo {
		if f == "-" {
			// stdin cannot be hashed before it is read: read whole.
			iopts := opts
			iopts.Inputs = []string{f}
			err = Ingest(ctx, iopts, func(r *InputResult) error {
				b := batch(r)
				if b == nil {
					return nil
				}
				added, err := cf.AddEvidence(ctx, b)
				if err == nil {
					stored(r.Input, added)
				}
				return err
			})
			if err != nil {
				return res, err
			}
			continue
		}
		// A file is stored as it is read, a chunk of records at a time,
		// in one transaction: memory holds a chunk, not the input.
		var r *InputResult
		errNotHashed := errors.New("not hashed to the end")
		added, err := cf.AddEvidenceStream(ctx, sums[f], func(rw *casefile.RecordWriter) (*casefile.Batch, error) {
			st := newCaseStore(rw, opts.Enricher)
			defer st.flows.Close()
			r = ingestOne(ctx, f, opts, &itemSink{store: st, sha: sums[f]})
			b := batch(r)
			if b == nil {
				return nil, errNotHashed
			}
			return b, st.finish()
		})
		switch {
		case errors.Is(err, errNotHashed):
			continue // listed as failed by batch
		case err != nil && r != nil && r.Input.SHA256 != "" && r.Input.SHA256 != sums[f]:
			// Changed between the hash and the read: stored as nothing.
			in := r.Input
			in.Error = err.Error()
			res.Failed = append(res.Failed, in)
			inputErrs = append(inputErrs, fmt.Errorf("%w: %w", ErrInput, err))
			continue
		case err != nil:
			return res, err
		}
		if r == nil {
			// Already in the case (another writer stored it meanwhile).
			r = &InputResult{Input: forensics.Input{Path: f, SHA256: sums[f]}}
		}
		stored(r.Input, added)
	}

	action := co.Action
	if action == "" {
		action = "case add"
	}
	entry := forensics.CustodyEntry{Time: co.now(), Action: action, Args: co.Args, ToolVersion: toolString(co.Tool), User: co.User}
	for _, in := range slices.Concat(res.Added, res.Present) {
		entry.Inputs = append(entry.Inputs, forensics.FileHash{Path: in.Path, Size: in.Size, SHA256: in.SHA256})
	}

	// Recompute over the whole case, also when nothing new came in: a run
	// killed after its last input but before this step is finished here.
	// Not when the derived records were computed from exactly what they
	// would be computed from now (a repeated case add): the same bytes
	// would replace them.
	items, err := cf.Evidence(ctx)
	if err != nil {
		return res, err
	}
	key := derivedKey(items, params, co.Tool, opts.Enricher)
	if len(res.Added) == 0 && meta.DerivedFrom == key {
		if _, err := cf.AppendCustody(ctx, entry); err != nil {
			return res, err
		}
		res.Caps = meta.Caps
		return res, errors.Join(inputErrs...)
	}
	c, sessions, err := correlateStored(ctx, cf, opts, SessionItemChunk)
	if err != nil {
		return res, err
	}
	defer sessions.Close()
	meta.DerivedFrom = key
	meta.Params = params
	meta.Caps = nil
	for _, h := range c.Caps {
		if h.File == "" { // the whole run's, not an input's
			meta.Caps = append(meta.Caps, h)
		}
	}
	res.Caps = meta.Caps
	meta.Tool = co.Tool
	if meta.Home == "" {
		meta.Home = opts.Home
	}
	err = cf.ReplaceDerived(ctx, &casefile.Derived{
		SessionStore: sessions, Campaigns: c.Campaigns, Chains: c.Chains, Databases: c.Databases,
		Meta: &meta, Custody: &entry,
	})
	if err != nil {
		return res, err
	}
	return res, errors.Join(inputErrs...)
}

// derivedKey is the SHA-256 of what a case's derived records are computed
// from: its evidence (SHA-256s, in the order added), the parameters, the
// tool and the databases in use (hops claimed in forwarded-for headers
// are looked up when chains are built).
func derivedKey(items []casefile.EvidenceItem, params map[string]string, tool forensics.ToolInfo, enr *enrich.Enricher) string {
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "evidence %s\n", it.SHA256)
	}
	js, _ := json.Marshal(params) // a map's keys come sorted
	fmt.Fprintf(h, "params %s\n", js)
	js, _ = json.Marshal(tool)
	fmt.Fprintf(h, "tool %s\n", js)
	if enr != nil {
		for _, db := range enr.Databases() {
			fmt.Fprintf(h, "database %s\n", db.SHA256)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// correlateStored is Correlate over every record stored in cf (what
// Load gives), without holding the records: they are read back from the
// case file into session items (with the enrichment stored with them,
// not looked up again), sorted externally (chunk items in memory) and
// grouped as the streamed commands group them; sessions go to a spool
// and into the campaign grouping; hop chains read the flows and the
// events with a forwarded-for path from spools of their own. The Case
// holds the provenance, the campaigns and the chains; the sessions are
// the spool's (close it). TestCorrelateStoredMatchesCorrelate holds the
// result to Correlate's.
func correlateStored(ctx context.Context, cf *casefile.File, opts Options, chunk int) (*forensics.Case, *SpooledSessions, error) {
	c, err := cf.Load(ctx, casefile.LoadOptions{NoFlows: true, NoEvents: true, NoDerived: true})
	if err != nil {
		return nil, nil, err
	}
	c.Home = opts.Home
	c.Databases = mergeDatabases(c.Databases, opts.Enricher)
	// Items drop their SHA-256 when spilled; a record's input is its
	// SHA-256's place in the order inputs were added, which is also the
	// order their records are stored in (ties in grouping keep it).
	inputOf := map[string]int32{}
	sums := make([]string, 0, len(c.Inputs))
	for _, in := range c.Inputs {
		if _, ok := inputOf[in.SHA256]; !ok {
			inputOf[in.SHA256] = int32(len(sums))
			sums = append(sums, in.SHA256)
		}
	}
	input := func(sha string) int32 {
		i, ok := inputOf[sha]
		if !ok {
			i = int32(len(sums))
			inputOf[sha] = i
			sums = append(sums, sha)
		}
		return i
	}
	geos := &geoTable{}
	sorter := newItemSorter(chunk)
	defer sorter.Cleanup()
	// Hop chains read the flows through a relay from this spool.
	flows := newSpooledFlows(chunk)
	flows.geos = geos
	defer flows.Close()
	// and the events with a forwarded-for path from this one.
	proxied := newSpooledEvents(chunk)
	proxied.geos = geos
	defer proxied.Close()
	var seq int64
	err = eachStoredFlow(ctx, cf, geos, func(f *forensics.Flow, src, dst uint32) error {
		seq++
		sorter.Add(sortItem{it: session.FlowItem(f), input: input(f.Evidence.SHA256), seq: seq, geo: src})
		flows.addGeo(0, seq, f, src, dst)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	err = eachStoredEvent(ctx, cf, geos, func(e *forensics.Event, geo uint32) error {
		seq++
		sorter.Add(sortItem{it: session.EventItem(e), input: input(e.Evidence.SHA256), seq: seq, geo: geo})
		if len(e.ProxyChain) >= 2 {
			proxied.addGeo(0, seq, e, geo)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	SortRecords(c)
	// Sessions end out of order; the spool sorts them as Correlate's are
	// (start, then ID).
	sessions := newSpooledSessions(SpooledEventsChunk, nil)
	sessions.geos = geos
	b := campaign.NewBuilder(campaignOptions(opts))
	st := session.NewStream(opts.Session, func(s *forensics.Session) {
		b.Add(s)
		sessions.addGeo(s, geos.indexOf(s.SrcGeo))
	})
	err = feedStream(ctx, sorter, st, func(si *sortItem) error {
		si.it.Evidence.SHA256 = sums[si.input]
		si.it.Geo = geos.record(si.geo)
		return nil
	})
	if err != nil {
		sessions.Close()
		return nil, nil, err
	}
	c.Campaigns, _ = b.Finish()
	c.FlowStore = flows
	err = buildChains(c, opts, proxied)
	c.FlowStore = nil
	if err != nil {
		sessions.Close()
		return nil, nil, err
	}
	return c, sessions, ctx.Err()
}

// caseStore is what an input's records go through into a case file:
// events as read, enriched; flows sorted by start then ID first (a
// capture's flows come out of its flow-table shards in an order that
// varies from run to run, and a case file must store the same input the
// same way every time: `case query` prints records as stored), through
// an external sort, and enriched as they come out.
type caseStore struct {
	rw    *casefile.RecordWriter
	enr   *enrich.Enricher
	flows *SpooledFlows
	seq   int64
}

func newCaseStore(rw *casefile.RecordWriter, enr *enrich.Enricher) *caseStore {
	flows := newSpooledFlows(SpooledEventsChunk)
	flows.enr = enr
	return &caseStore{rw: rw, enr: enr, flows: flows}
}

func (st *caseStore) Event(e forensics.Event) {
	if ip := e.Actor(); st.enr != nil && ip.IsValid() {
		e.SrcGeo = st.enr.LookupShared(ip, e.Time.Time)
	}
	st.rw.Event(e)
}

func (st *caseStore) Flow(f forensics.Flow) {
	st.seq++
	st.flows.add(0, st.seq, &f)
}

// finish stores the flows in order, enriched.
func (st *caseStore) finish() error {
	return st.flows.Each(func(f *forensics.Flow) error {
		st.rw.Flow(*f)
		return nil
	})
}

// eachStoredFlow calls fn with every flow stored in cf, in the order Load
// reads them, its stored enrichments interned in geos (src, dst: their
// index + 1, also set as the flow's SrcGeo and DstGeo). The flow is fn's
// for the call only.
func eachStoredFlow(ctx context.Context, cf *casefile.File, geos *geoTable, fn func(f *forensics.Flow, src, dst uint32) error) error {
	var s spoolFlow
	return cf.Records(ctx, casefile.KindFlows, func(line []byte) error {
		if !decodeFlowLineKnown(line, &s, geos.known) {
			s = spoolFlow{}
			if err := json.Unmarshal(line, &s); err != nil {
				return fmt.Errorf("stored flow: %w", err)
			}
		}
		src, err := geos.intern(s.SrcGeo)
		if err != nil {
			return fmt.Errorf("stored flow %s: %w", s.ID, err)
		}
		dst, err := geos.intern(s.DstGeo)
		if err != nil {
			return fmt.Errorf("stored flow %s: %w", s.ID, err)
		}
		f := &s.Flow
		f.SrcGeo, f.DstGeo = geos.record(src), geos.record(dst)
		return fn(f, src, dst)
	})
}

// eachStoredEvent calls fn with every event stored in cf, in the order
// Load reads them, its stored enrichment interned in geos (geo: its
// index + 1, also set as the event's SrcGeo). The event is fn's for the
// call only.
func eachStoredEvent(ctx context.Context, cf *casefile.File, geos *geoTable, fn func(e *forensics.Event, geo uint32) error) error {
	var se spoolEvent
	return cf.Records(ctx, casefile.KindEvents, func(line []byte) error {
		if !decodeEventLineKnown(line, &se, geos.known) {
			se = spoolEvent{}
			if err := json.Unmarshal(line, &se); err != nil {
				return fmt.Errorf("stored event: %w", err)
			}
		}
		geo, err := geos.intern(se.SrcGeo)
		if err != nil {
			return fmt.Errorf("stored event %s: %w", se.ID, err)
		}
		se.Event.SrcGeo = geos.record(geo)
		return fn(&se.Event, geo)
	})
}

// toolString names the build in custody entries as forensics/report does.
func toolString(t forensics.ToolInfo) string {
	s := t.Name + " " + t.Version
	if t.Commit != "" {
		s += " (" + t.Commit + ")"
	}
	return strings.TrimSpace(s)
}

// mergeDatabases lists the builds e uses, in its order (what Run cites),
// followed by builds earlier additions used that e does not.
func mergeDatabases(have []enrich.DatabaseInfo, e *enrich.Enricher) []enrich.DatabaseInfo {
	if e == nil {
		return have
	}
	out := slices.Clone(e.Databases())
	for _, db := range have {
		if !slices.ContainsFunc(out, func(d enrich.DatabaseInfo) bool { return d.SHA256 == db.SHA256 && d.Name == db.Name }) {
			out = append(out, db)
		}
	}
	return out
}

// LoadCase reads a case file (read-only, concurrently with a writer) as
// the Case that `report CASEFILE` renders: everything stored, records in
// the order Correlate leaves them, so the bundle equals what `analyze`
// over the same inputs writes. The events and sessions are copied to
// spools (Case.EventStore, Case.SessionStore) with their stored
// enrichment, not held: Release the Case when done with it.
func LoadCase(ctx context.Context, casePath string) (*forensics.Case, error) {
	cf, err := casefile.Open(ctx, casePath, casefile.OpenOptions{})
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	return loadCase(ctx, cf)
}

func loadCase(ctx context.Context, cf *casefile.File) (*forensics.Case, error) {
	meta, err := cf.Meta(ctx)
	if err != nil {
		return nil, err
	}
	c, err := cf.Load(ctx, casefile.LoadOptions{NoFlows: true, NoEvents: true, NoSessions: true})
	if err != nil {
		return nil, err
	}
	geos := &geoTable{}
	flows := newSpooledFlows(SpooledEventsChunk)
	flows.geos = geos
	events := newSpooledEvents(SpooledEventsChunk)
	events.geos = geos
	sessions := newStoredSessions(SpooledEventsChunk, geos)
	c.FlowStore, c.EventStore, c.SessionStore = flows, events, sessions
	if err := spoolStored(ctx, cf, flows, events, sessions, geos); err != nil {
		Release(c)
		return nil, err
	}
	SortRecords(c)
	c.ID, c.Examiner, c.Home, c.Tool, c.Params = meta.CaseID, meta.Examiner, meta.Home, meta.Tool, meta.Params
	return c, nil
}

// spoolStored copies a case file's flows, events and sessions to spools,
// in the order Load reads them (flows and events are sorted by the spool
// as SortRecords sorts them; sessions keep their stored order), each with
// its stored enrichment interned in geos.
func spoolStored(ctx context.Context, cf *casefile.File, flows *SpooledFlows, events *SpooledEvents, sessions *SpooledSessions, geos *geoTable) error {
	var seq int64
	err := eachStoredFlow(ctx, cf, geos, func(f *forensics.Flow, src, dst uint32) error {
		seq++
		flows.addGeo(0, seq, f, src, dst)
		return nil
	})
	if err != nil {
		return err
	}
	err = eachStoredEvent(ctx, cf, geos, func(e *forensics.Event, geo uint32) error {
		seq++
		events.addGeo(0, seq, e, geo)
		return nil
	})
	if err != nil {
		return err
	}
	return cf.Records(ctx, casefile.KindSessions, func(line []byte) error {
		var s struct {
			forensics.Session
			SrcGeo json.RawMessage `json:"src_geo"`
		}
		if err := json.Unmarshal(line, &s); err != nil {
			return fmt.Errorf("stored session: %w", err)
		}
		geo, err := geos.intern(s.SrcGeo)
		if err != nil {
			return fmt.Errorf("stored session %s: %w", s.ID, err)
		}
		sessions.addGeo(&s.Session, geo)
		return nil
	})
}
