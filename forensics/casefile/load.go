package casefile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// LoadOptions choose what Load reads back.
type LoadOptions struct {
	// NoDerived leaves sessions, campaigns and chains out (the records
	// correlation recomputes anyway).
	NoDerived bool
	// NoFlows, NoEvents and NoSessions leave the flows, the events or
	// the sessions out, for a caller that reads them with Records
	// instead of holding them.
	NoFlows, NoEvents, NoSessions bool
}

// Load reads the case back as a forensics.Case: metadata, inputs in the
// order they were added, databases, flows and events (in input order, then
// in the order they were ingested), problems, caps hit and, unless
// opts.NoDerived, the stored sessions, campaigns and chains, and the caps
// their correlation hit (Meta.Caps, first among the caps).
func (f *File) Load(ctx context.Context, opts LoadOptions) (*forensics.Case, error) {
	meta, err := f.Meta(ctx)
	if err != nil {
		return nil, err
	}
	c := &forensics.Case{ID: meta.CaseID, Examiner: meta.Examiner, Home: meta.Home, Tool: meta.Tool, Params: meta.Params}
	items, err := f.Evidence(ctx)
	if err != nil {
		return nil, err
	}
	c.Inputs = make([]forensics.Input, 0, len(items))
	for _, it := range items {
		c.Inputs = append(c.Inputs, it.Input)
	}
	type step struct {
		q  string
		fn func([]byte) error
	}
	steps := []step{
		{`SELECT json FROM databases ORDER BY ord`, appendJSON(&c.Databases)},
	}
	if !opts.NoFlows {
		steps = append(steps, step{KindFlows, appendLines(&c.Flows)})
	}
	if !opts.NoEvents {
		steps = append(steps, step{KindEvents, appendLines(&c.Events)})
	}
	if !opts.NoDerived {
		// The whole case's limits first, as analyze sorts caps (by file,
		// and theirs is none).
		c.Caps = slices.Clone(meta.Caps)
	}
	steps = append(steps,
		step{`SELECT json FROM problems ORDER BY id`, appendJSON(&c.Problems)},
		step{`SELECT json FROM caps ORDER BY id`, appendJSON(&c.Caps)},
	)
	if !opts.NoDerived {
		if !opts.NoSessions {
			steps = append(steps, step{KindSessions, appendLines(&c.Sessions)})
		}
		steps = append(steps,
			step{`SELECT json FROM campaigns ORDER BY id`, appendJSON(&c.Campaigns)},
			step{`SELECT json FROM chains ORDER BY id`, appendJSON(&c.Chains)},
		)
	}
	for _, s := range steps {
		scan := f.scan
		if !strings.HasPrefix(s.q, "SELECT") {
			scan = f.scanBlocks
		}
		if err := scan(ctx, s.q, s.fn); err != nil {
			return nil, err
		}
	}
	shareGeo(c)
	return c, nil
}

// shareGeo makes records with equal enrichment point at one enrichment
// record, as they did when ingested (the enricher hands out one record
// per address and snapshot): each record's JSON decodes into a copy of
// its own. Shared, they are held once and a report encodes each once.
func shareGeo(c *forensics.Case) {
	seen := map[string]*enrich.Record{}
	var buf []byte
	share := func(g **enrich.Record) {
		if *g == nil {
			return
		}
		var err error
		if buf, err = forensics.AppendRecordJSON(buf[:0], *g); err != nil {
			return
		}
		if r, ok := seen[string(buf)]; ok {
			*g = r
			return
		}
		seen[string(buf)] = *g
	}
	for i := range c.Events {
		share(&c.Events[i].SrcGeo)
	}
	for i := range c.Flows {
		share(&c.Flows[i].SrcGeo)
		share(&c.Flows[i].DstGeo)
	}
	for i := range c.Sessions {
		share(&c.Sessions[i].SrcGeo)
	}
}

// Databases lists the database builds the case's records were enriched
// with, in lookup order.
func (f *File) Databases(ctx context.Context) ([]enrich.DatabaseInfo, error) {
	var out []enrich.DatabaseInfo
	if err := f.scan(ctx, `SELECT json FROM databases ORDER BY ord`, appendJSON(&out)); err != nil {
		return nil, err
	}
	return out, nil
}

func appendJSON[T any](dst *[]T) func([]byte) error {
	return func(js []byte) error {
		var v T
		if err := json.Unmarshal(js, &v); err != nil {
			return err
		}
		*dst = append(*dst, v)
		return nil
	}
}

// Records calls fn with the JSON of every stored record of kind (flows,
// events or sessions) in the order Load reads them, one line at a time;
// the line is fn's for the call only.
func (f *File) Records(ctx context.Context, kind string, fn func(line []byte) error) error {
	return f.scanBlocks(ctx, kind, func(js []byte) error {
		for len(js) > 0 {
			line, rest, _ := bytes.Cut(js, []byte{'\n'})
			js = rest
			if err := fn(line); err != nil {
				return err
			}
		}
		return nil
	})
}

// appendLines decodes a block's JSON lines.
func appendLines[T any](dst *[]T) func([]byte) error {
	return func(js []byte) error {
		for len(js) > 0 {
			line, rest, _ := bytes.Cut(js, []byte{'\n'})
			js = rest
			var v T
			if err := json.Unmarshal(line, &v); err != nil {
				return err
			}
			*dst = append(*dst, v)
		}
		return nil
	}
}

// scan runs a one-column query and hands each value to fn.
func (f *File) scan(ctx context.Context, q string, fn func([]byte) error) error {
	rows, err := f.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read case %s: %w", f.path, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var js []byte
		if err := rows.Scan(&js); err != nil {
			return fmt.Errorf("read case %s: %w", f.path, err)
		}
		if err := fn(js); err != nil {
			return fmt.Errorf("read case %s: %q row %d: %w", f.path, q, n, err)
		}
	}
	return rows.Err()
}

// scanBlocks hands the JSON Lines of every block of kind to fn, in order.
func (f *File) scanBlocks(ctx context.Context, kind string, fn func([]byte) error) error {
	rows, err := f.db.QueryContext(ctx, `SELECT id, codec, json FROM blocks WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		return fmt.Errorf("read %s of %s: %w", kind, f.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var codec string
		var raw []byte
		if err := rows.Scan(&id, &codec, &raw); err != nil {
			return fmt.Errorf("read %s of %s: %w", kind, f.path, err)
		}
		js, err := f.blockJSON(codec, raw)
		if err == nil {
			err = fn(js)
		}
		if err != nil {
			return fmt.Errorf("read %s of %s: block %d: %w", kind, f.path, id, err)
		}
	}
	return rows.Err()
}

// Evidence lists the inputs in the order they were added.
func (f *File) Evidence(ctx context.Context) ([]EvidenceItem, error) {
	var out []EvidenceItem
	err := f.scan(ctx, `SELECT json FROM evidence ORDER BY id`, appendJSON(&out))
	return out, err
}

// Enrichment returns the stored enrichment results, by address then by
// result hash.
func (f *File) Enrichment(ctx context.Context) ([]enrich.Record, error) {
	var out []enrich.Record
	err := f.scan(ctx, `SELECT json FROM enrichment ORDER BY ip, hash`, appendJSON(&out))
	return out, err
}

// Summary counts what a case holds (`case show`).
type Summary struct {
	Meta       Meta                 `json:"case"`
	Schema     int                  `json:"schema_version"`
	Evidence   []EvidenceItem       `json:"evidence"`
	Flows      int64                `json:"flows"`
	Events     int64                `json:"events"`
	Sessions   int64                `json:"sessions"`
	Campaigns  []forensics.Campaign `json:"campaigns,omitempty"`
	Chains     int64                `json:"chains"`
	Problems   int64                `json:"problems"`
	Enrichment int64                `json:"enrichment_results"`
	Custody    int64                `json:"custody_entries"`
}

// Summary returns the counts, the evidence list and the campaigns (highest
// score first, as stored).
func (f *File) Summary(ctx context.Context) (*Summary, error) {
	meta, err := f.Meta(ctx)
	if err != nil {
		return nil, err
	}
	s := &Summary{Meta: meta}
	if err := f.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&s.Schema); err != nil {
		return nil, err
	}
	if s.Evidence, err = f.Evidence(ctx); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		table string
		dst   *int64
	}{
		{"blocks WHERE kind = 'flows'", &s.Flows}, {"blocks WHERE kind = 'events'", &s.Events},
		{"blocks WHERE kind = 'sessions'", &s.Sessions}, {"chains", &s.Chains},
		{"problems", &s.Problems}, {"enrichment", &s.Enrichment}, {"custody", &s.Custody},
	} {
		count := "count(*)"
		if strings.HasPrefix(c.table, "blocks") {
			count = "coalesce(sum(n), 0)"
		}
		if err := f.db.QueryRowContext(ctx, "SELECT "+count+" FROM "+c.table).Scan(c.dst); err != nil {
			return nil, fmt.Errorf("count %s in %s: %w", c.table, f.path, err)
		}
	}
	if err := f.scan(ctx, `SELECT json FROM campaigns ORDER BY id`, appendJSON(&s.Campaigns)); err != nil {
		return nil, err
	}
	return s, nil
}
