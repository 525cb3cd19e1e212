package capture

import (
	"bytes"
	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// FlowEncoder writes flows as JSON exactly as encoding/json does with
// SetEscapeHTML(false) (the bytes `tracehop flows` has always written),
// through the model's encoder (forensics.AppendFlowJSONGeo). Enrichment
// records are encoded once per distinct *enrich.Record and reused:
// callers attach shared, read-only records
// (enrich.Enricher.LookupShared), so most flows hit the cache.
// A FlowEncoder is not safe for concurrent use; its cache is bounded
// (maxCachedRecords).
type FlowEncoder struct {
	recs map[*enrich.Record][]byte
	// scratch is where a record is encoded before its exact-size copy is
	// cached (growing a fresh slice cost more than the encoding).
	scratch []byte
}

// NewFlowEncoder returns an encoder with an empty record cache.
func NewFlowEncoder() *FlowEncoder {
	return &FlowEncoder{recs: map[*enrich.Record][]byte{}}
}

// maxCachedRecords bounds the record cache of a FlowEncoder.
const maxCachedRecords = 8192

// Append appends f's JSON (no trailing newline) to dst. The error is
// encoding/json's for a record it refuses (a NaN coordinate); dst is then
// returned unchanged.
func (e *FlowEncoder) Append(dst []byte, f *forensics.Flow) ([]byte, error) {
	src, err := e.record(f.SrcGeo)
	if err != nil {
		return dst, err
	}
	dstGeo, err := e.record(f.DstGeo)
	if err != nil {
		return dst, err
	}
	return forensics.AppendFlowJSONGeo(dst, f, src, dstGeo), nil
}

// RecordJSON is r's JSON (nil for nil), encoded once per distinct record,
// for callers that assemble flows with forensics.AppendFlowJSONGeo.
func (e *FlowEncoder) RecordJSON(r *enrich.Record) ([]byte, error) { return e.record(r) }

// record is r's JSON, once per distinct record (then from the cache).
func (e *FlowEncoder) record(r *enrich.Record) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	if b, ok := e.recs[r]; ok {
		return b, nil
	}
	if len(e.recs) >= maxCachedRecords {
		clear(e.recs) // a scan: every address new, nothing to gain
	}
	var err error
	if e.scratch, err = forensics.AppendRecordJSON(e.scratch[:0], r); err != nil {
		return nil, err
	}
	b := bytes.Clone(e.scratch)
	e.recs[r] = b
	return b, nil
}
