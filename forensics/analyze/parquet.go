package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/casefile"
	"github.com/tracehop/tracehop/forensics/evidence"
	"github.com/tracehop/tracehop/forensics/hive"
)

// The --format parquet outputs of flows, events and sessions (DESIGN §9):
// Hive-partitioned Parquet tables for Spark, Trino, ClickHouse or DuckDB,
// written in the same (time, ID) order as the JSON lines.

func hiveMeta(c *forensics.Case, aopts Options, tool forensics.ToolInfo) hive.Meta {
	m := hive.Meta{Tool: tool, Inputs: c.Inputs, Params: Params(aopts)}
	if aopts.Enricher != nil {
		m.Databases = aopts.Enricher.Databases()
	}
	return m
}

// EventsParquet runs the events stage (as StreamEvents) and writes the
// events into dir as a Parquet table. The events pass through a spool on
// disk, so memory stays flat: every input's SHA-256 is known before the
// first file is written, and rows come out in (time, ID) order. The
// returned error joins unusable inputs (ErrInput) as StreamEvents does.
func EventsParquet(ctx context.Context, dir string, aopts Options, tool forensics.ToolInfo) (*forensics.Case, *hive.Manifest, error) {
	sp, c, runErr := SpoolEvents(ctx, aopts, nil)
	if sp == nil {
		return c, nil, runErr
	}
	defer sp.Close()
	w, err := hive.NewEvents(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return c, nil, err
	}
	add := func(se *spoolEvent) error { return w.Add(&se.Event) }
	m, err := finishTable(w, decodeInOrder(ctx, sp.Each, newEventDecoder, add))
	if err != nil {
		return c, nil, fmt.Errorf("write events: %w", err)
	}
	return c, m, runErr
}

// FlowsParquet writes the merged flows of StreamFlows into dir as a
// Parquet table.
func FlowsParquet(ctx context.Context, dir string, c *forensics.Case, s *FlowSorter, aopts Options, tool forensics.ToolInfo) (*hive.Manifest, error) {
	w, err := hive.NewFlows(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return nil, err
	}
	add := func(sf *spoolFlow) error { return w.Add(&sf.Flow) }
	return finishTable(w, decodeInOrder(ctx, s.EachLine, newFlowDecoder, add))
}

// SessionsParquet writes the sessions of StreamSessions into dir as a
// Parquet table.
func SessionsParquet(ctx context.Context, dir string, sp *SessionSpool, c *forensics.Case, aopts Options, tool forensics.ToolInfo) (*hive.Manifest, error) {
	w, err := hive.NewSessions(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return nil, err
	}
	return finishTable(w, decodeInOrder(ctx, sp.Each, newSessionDecoder, w.Add))
}

// EventsParquetFromCase writes c.Events (the in-memory path, for stdin)
// into dir as a Parquet table; they must be in output order.
func EventsParquetFromCase(dir string, c *forensics.Case, aopts Options, tool forensics.ToolInfo) (*hive.Manifest, error) {
	w, err := hive.NewEvents(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return nil, err
	}
	return finishTable(w, addAll(c.Events, w.Add))
}

// addAll adds every record of recs in order, stopping at the first error.
func addAll[T any](recs []T, add func(*T) error) error {
	for i := range recs {
		if err := add(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// decodeBatch is how many lines a worker decodes at a time.
const decodeBatch = 512

type decodeJob[T any] struct {
	lines [][]byte
	recs  []T
	err   error
	done  chan struct{}
}

// spoolEvent and spoolFlow decode a spooled record with its ip records
// left raw (the outer fields shadow the embedded ones), so that geoCache
// decodes each distinct ip record once, not once per row: a log holds
// many events per address.
type spoolEvent struct {
	forensics.Event
	SrcGeo json.RawMessage `json:"src_geo"`
}

type spoolFlow struct {
	forensics.Flow
	SrcGeo json.RawMessage `json:"src_geo"`
	DstGeo json.RawMessage `json:"dst_geo"`
}

// geoCacheSize bounds a decoder's ip records; a full cache is emptied.
const geoCacheSize = 1 << 14

// geoCache maps the JSON of an ip record to one decoded record, shared by
// every row that carries the same bytes (read-only, as the enricher's).
type geoCache map[string]*enrich.Record

func (c geoCache) get(raw json.RawMessage) (*enrich.Record, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if r, ok := c[string(raw)]; ok {
		return r, nil
	}
	r := new(enrich.Record)
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, err
	}
	if len(c) >= geoCacheSize {
		clear(c)
	}
	c[string(raw)] = r
	return r, nil
}

// newEventDecoder and newFlowDecoder make one decoder per worker, each
// with its own cache.
func newEventDecoder() func([]byte, *spoolEvent) error {
	geo := geoCache{}
	return func(line []byte, se *spoolEvent) (err error) {
		if !decodeEventLine(line, se) {
			*se = spoolEvent{}
			if err = json.Unmarshal(line, se); err != nil {
				return err
			}
		}
		se.Event.SrcGeo, err = geo.get(se.SrcGeo)
		return err
	}
}

func newFlowDecoder() func([]byte, *spoolFlow) error {
	geo := geoCache{}
	return func(line []byte, sf *spoolFlow) (err error) {
		if !decodeFlowLineKnown(line, sf, nil) {
			*sf = spoolFlow{}
			if err = json.Unmarshal(line, sf); err != nil {
				return err
			}
		}
		if sf.Flow.SrcGeo, err = geo.get(sf.SrcGeo); err != nil {
			return err
		}
		sf.Flow.DstGeo, err = geo.get(sf.DstGeo)
		return err
	}
}

// decodeInOrder decodes the JSON lines that each yields into records of
// type T on every core (each worker with a decoder from newDecoder) and
// hands them to add in the order they came: decoding is most of the time
// of a Parquet export, writing must stay in order for reproducible files.
// Memory is a few batches per core.
func decodeInOrder[T any](ctx context.Context, each func(func([]byte) error) error, newDecoder func() func([]byte, *T) error, add func(*T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *decodeJob[T], workers)
	order := make(chan *decodeJob[T], 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			decode := newDecoder()
			for j := range work {
				j.recs = make([]T, len(j.lines))
				for i, line := range j.lines {
					if err := decode(line, &j.recs[i]); err != nil {
						j.err = fmt.Errorf("decode spooled record: %w", err)
						break
					}
				}
				close(j.done)
			}
		})
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		j := &decodeJob[T]{done: make(chan struct{})}
		send := func() bool {
			select {
			case work <- j:
			case <-ctx.Done():
				return false
			}
			select {
			case order <- j:
			case <-ctx.Done():
				return false
			}
			j = &decodeJob[T]{done: make(chan struct{})}
			return true
		}
		readErr = each(func(line []byte) error {
			j.lines = append(j.lines, bytes.Clone(line))
			if len(j.lines) == decodeBatch && !send() {
				return ctx.Err()
			}
			return nil
		})
		if readErr == nil && len(j.lines) > 0 {
			send()
		}
	}()
	var err error
	for j := range order {
		<-j.done
		if err == nil {
			err = j.err
		}
		for i := range j.recs {
			if err != nil {
				break
			}
			err = add(&j.recs[i])
		}
		if err != nil {
			cancel() // the reader stops at its next line; drain what it sent
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// CampaignsFromTables builds campaigns from sessions tables (`tracehop
// sessions --format parquet`) instead of evidence: months of sessions,
// made on other machines or in earlier runs, grouped in one pass
// (DESIGN §9). Each table is verified before it is read and the
// sessions stream into the campaign builder, so memory holds the
// builder's compact state, not the sessions. The Case lists the evidence
// inputs and databases the tables' manifests cite. Hop chains need events
// and flows, which a sessions table does not hold: campaigns built here
// have none.
func CampaignsFromTables(ctx context.Context, dirs []string, opts Options) (*forensics.Case, error) {
	copts := opts.Campaign
	if copts.Home == "" {
		copts.Home = opts.Home
	}
	b := campaign.NewBuilder(copts)
	c := &forensics.Case{Home: opts.Home}
	inputs, dbs := map[[2]string]bool{}, map[[2]string]bool{}
	for _, dir := range dirs {
		m, err := hive.ReadSessions(dir, func(s *forensics.Session) error {
			b.Add(s)
			return ctx.Err()
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		for _, in := range m.Inputs {
			if k := [2]string{in.Path, in.SHA256}; !inputs[k] {
				inputs[k] = true
				c.Inputs = append(c.Inputs, in)
			}
		}
		for _, d := range m.Databases {
			if k := [2]string{d.Name, d.SHA256}; !dbs[k] {
				dbs[k] = true
				c.Databases = append(c.Databases, d)
			}
		}
	}
	c.Campaigns, _ = b.Finish()
	return c, nil
}

// walkEvidence is evidence.Walk that first refuses a Parquet table given
// as evidence: walked, its files would each be an "unknown input kind".
func walkEvidence(inputs []string) ([]string, error) {
	for _, in := range inputs {
		if hive.IsTable(in) {
			return nil, fmt.Errorf("%s is a tracehop Parquet table (%s), not evidence; `tracehop campaigns` reads sessions tables", in, hive.ManifestSchema)
		}
	}
	return evidence.Walk(inputs)
}

// CaseParquet writes the records of one kind that a case file query
// selects (`tracehop case query --format parquet`) into dir as a Parquet
// table. The provenance is the case's: every input added to it, its
// database builds and the query given in params. Records come in case
// order (inputs in the order added), so a day seen again in a later input
// gets its next part file.
func CaseParquet(ctx context.Context, cf *casefile.File, kind string, flt casefile.Filter, dir string, tool forensics.ToolInfo, params map[string]string) (*hive.Manifest, error) {
	items, err := cf.Evidence(ctx)
	if err != nil {
		return nil, err
	}
	meta := hive.Meta{Tool: tool, Params: params, Inputs: make([]forensics.Input, 0, len(items))}
	for _, it := range items {
		meta.Inputs = append(meta.Inputs, it.Input)
	}
	if meta.Databases, err = cf.Databases(ctx); err != nil {
		return nil, err
	}
	each := func(fn func([]byte) error) error { return cf.Query(ctx, kind, flt, fn) }
	switch kind {
	case casefile.KindEvents:
		w, err := hive.NewEvents(dir, meta)
		if err != nil {
			return nil, err
		}
		return finishTable(w, decodeInOrder(ctx, each, newEventDecoder, func(se *spoolEvent) error { return w.Add(&se.Event) }))
	case casefile.KindFlows:
		w, err := hive.NewFlows(dir, meta)
		if err != nil {
			return nil, err
		}
		return finishTable(w, decodeInOrder(ctx, each, newFlowDecoder, func(sf *spoolFlow) error { return w.Add(&sf.Flow) }))
	case casefile.KindSessions:
		w, err := hive.NewSessions(dir, meta)
		if err != nil {
			return nil, err
		}
		return finishTable(w, decodeInOrder(ctx, each, newSessionDecoder, w.Add))
	}
	return nil, fmt.Errorf("case query: unknown record kind %q", kind)
}

// newSessionDecoder decodes stored sessions, each distinct ip record once.
func newSessionDecoder() func([]byte, *forensics.Session) error {
	geo := geoCache{}
	return func(line []byte, s *forensics.Session) (err error) {
		var ss struct {
			forensics.Session
			SrcGeo json.RawMessage `json:"src_geo"`
		}
		if err = json.Unmarshal(line, &ss); err != nil {
			return err
		}
		*s = ss.Session
		s.SrcGeo, err = geo.get(ss.SrcGeo)
		return err
	}
}

// finishTable closes a table after its rows, or aborts it (no manifest)
// when writing them failed.
func finishTable(w interface {
	Close() (*hive.Manifest, error)
	Abort()
}, err error) (*hive.Manifest, error) {
	if err != nil {
		w.Abort()
		return nil, err
	}
	return w.Close()
}
