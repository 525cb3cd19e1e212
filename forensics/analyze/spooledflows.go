package analyze

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
)

// SpooledFlows holds a run's flows on disk in the order SortRecords gives
// them (start, then ID; ties in input and reading order), as
// SpooledEvents holds the events (forensics.FlowStore): a capture of a
// scan has millions. Flows go in as they are read, with a capture's
// clock offset applied but without their input's SHA-256 or enrichment,
// filled as they come back out as ingestOne and enrichResult fill them;
// flows read back from a case file keep their stored enrichment (geos).
type SpooledFlows struct {
	s    *extsort.Sorter[spooledFlow]
	n    atomic.Int64
	sums []string // input i's SHA-256
	enr  *enrich.Enricher
	geos *geoTable
}

// spooledFlow is one flow's place in the order and the flow
// (appendFlowBin).
type spooledFlow struct {
	sec      int64
	nsec     int32
	input    int32
	seq      int64
	src, dst uint32 // stored enrichments (geoTable index + 1), or 0
	id       string
	rec      []byte
}

func newSpooledFlows(chunk int) *SpooledFlows {
	return &SpooledFlows{s: &extsort.Sorter[spooledFlow]{Chunk: chunk, What: "flows",
		Cmp: func(a, b *spooledFlow) int {
			return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), strings.Compare(a.id, b.id),
				cmp.Compare(a.input, b.input), cmp.Compare(a.seq, b.seq))
		},
		Enc: func(dst []byte, v *spooledFlow) []byte {
			dst = binary.AppendVarint(dst, v.sec)
			dst = binary.AppendUvarint(dst, uint64(v.nsec))
			dst = binary.AppendVarint(dst, int64(v.input))
			dst = binary.AppendVarint(dst, v.seq)
			dst = binary.AppendUvarint(dst, uint64(v.src))
			dst = binary.AppendUvarint(dst, uint64(v.dst))
			dst = binary.AppendUvarint(dst, uint64(len(v.id)))
			dst = append(dst, v.id...)
			return append(dst, v.rec...)
		},
		Dec: func(b []byte, v *spooledFlow) error {
			r := &itemReader{b: b}
			sec, nsec, input, seq, src, dst := r.varint(), r.uvarint(), r.varint(), r.varint(), r.uvarint(), r.uvarint()
			id := r.bytes()
			if r.err != nil || nsec >= 1e9 || input < 0 || input >= 1<<31 || src >= 1<<32 || dst >= 1<<32 {
				return errCorruptItem
			}
			*v = spooledFlow{sec: sec, nsec: int32(nsec), input: int32(input), seq: seq, src: uint32(src), dst: uint32(dst), id: string(id), rec: r.b}
			return nil
		}}}
}

// add spools flow f of input at its place seq in the input's reading
// order. Safe for concurrent use.
func (sp *SpooledFlows) add(input int32, seq int64, f *forensics.Flow) {
	sp.addGeo(input, seq, f, 0, 0)
}

// addGeo is add for a flow with stored enrichments (geoTable index + 1;
// 0: none stored, looked up again when an enricher is set).
func (sp *SpooledFlows) addGeo(input int32, seq int64, f *forensics.Flow, src, dst uint32) {
	sp.s.Add(spooledFlow{sec: f.Start.Unix(), nsec: int32(f.Start.Nanosecond()), input: input, seq: seq, src: src, dst: dst, id: f.ID, rec: appendFlowBin(nil, f)})
	sp.n.Add(1)
}

// Len is the number of flows.
func (sp *SpooledFlows) Len() int { return int(sp.n.Load()) }

// Each calls fn with every flow in order, with its input's SHA-256 and
// its enrichment (the enricher's shared records, as Run's flows hold,
// or the stored ones). It may be called again.
func (sp *SpooledFlows) Each(fn func(*forensics.Flow) error) error {
	var f forensics.Flow
	return sp.s.Each(func(v *spooledFlow) error {
		if err := decodeFlowBin(v.rec, &f); err != nil {
			return fmt.Errorf("flows spool: flow %s: %w", v.id, err)
		}
		if int(v.input) < len(sp.sums) {
			f.Evidence.SHA256 = sp.sums[v.input]
		}
		if v.src > 0 || v.dst > 0 {
			f.SrcGeo, f.DstGeo = sp.geos.record(v.src), sp.geos.record(v.dst)
		} else if sp.enr != nil {
			enrichFlow(sp.enr, &f)
		}
		return fn(&f)
	})
}

// Close removes the spool's files.
func (sp *SpooledFlows) Close() error {
	sp.s.Cleanup()
	return nil
}
