package analyze

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tracehop/tracehop/forensics"
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
	err = sp.Each(func(line []byte) error {
		var ev forensics.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("events spool: %w", err)
		}
		return w.Add(&ev)
	})
	if err != nil {
		w.Abort()
		return c, nil, fmt.Errorf("write events: %w", err)
	}
	m, err := w.Close()
	if err != nil {
		return c, nil, fmt.Errorf("write events: %w", err)
	}
	return c, m, runErr
}

// FlowsParquet writes the merged flows of StreamFlows into dir as a
// Parquet table.
func FlowsParquet(dir string, c *forensics.Case, s *FlowSorter, aopts Options, tool forensics.ToolInfo) (*hive.Manifest, error) {
	w, err := hive.NewFlows(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return nil, err
	}
	err = s.EachLine(func(line []byte) error {
		var f forensics.Flow
		if err := json.Unmarshal(line, &f); err != nil {
			return fmt.Errorf("flow runs: %w", err)
		}
		return w.Add(&f)
	})
	if err != nil {
		w.Abort()
		return nil, err
	}
	return w.Close()
}

// SessionsParquet writes c.Sessions into dir as a Parquet table.
func SessionsParquet(dir string, c *forensics.Case, aopts Options, tool forensics.ToolInfo) (*hive.Manifest, error) {
	w, err := hive.NewSessions(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return nil, err
	}
	for i := range c.Sessions {
		if err := w.Add(&c.Sessions[i]); err != nil {
			w.Abort()
			return nil, err
		}
	}
	return w.Close()
}

// EventsParquetFromCase writes c.Events (the in-memory path, for stdin)
// into dir as a Parquet table; they must be in output order.
func EventsParquetFromCase(dir string, c *forensics.Case, aopts Options, tool forensics.ToolInfo) (*hive.Manifest, error) {
	w, err := hive.NewEvents(dir, hiveMeta(c, aopts, tool))
	if err != nil {
		return nil, err
	}
	for i := range c.Events {
		if err := w.Add(&c.Events[i]); err != nil {
			w.Abort()
			return nil, err
		}
	}
	return w.Close()
}
