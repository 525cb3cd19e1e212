package analyze

import (
	"cmp"
	"encoding/binary"
	"errors"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/internal/extsort"
	"github.com/tracehop/tracehop/forensics/session"
)

// sortItem is a session item with its place in the input order. Items
// sort in the order session.Stream reads them: events by (time, ID,
// offset), then flows by (start, ID), ties in input and reading order as
// the in-memory path's stable sorts leave them.
type sortItem struct {
	it    session.Item
	input int32
	seq   int64
	geo   uint32 // a stored enrichment (geoTable index + 1), or 0
}

func newItemSorter(chunk int) *extsort.Sorter[sortItem] {
	return &extsort.Sorter[sortItem]{Chunk: chunk, What: "session items", Cmp: compareItems, Enc: appendItem, Dec: decodeItem}
}

func compareItems(a, b *sortItem) int {
	if a.it.Flow != b.it.Flow {
		if a.it.Flow {
			return 1
		}
		return -1
	}
	x, y := &a.it, &b.it
	var c int
	if x.Flow {
		c = session.CompareFlows(x.Time, x.ID, y.Time, y.ID)
	} else {
		c = session.CompareEvents(x.Time, x.ID, x.Evidence.Offset, y.Time, y.ID, y.Evidence.Offset)
	}
	return cmp.Or(c, cmp.Compare(a.input, b.input), cmp.Compare(a.seq, b.seq))
}

// The spilled form of an item: a length, then the fields in a fixed
// order, integers as varints and strings with their length, so that
// every byte of a string from the evidence (invalid UTF-8 included)
// comes back as it was. Times are Unix seconds and nanoseconds: exact
// for any year a log can claim. The SHA-256 is not written (each is
// restored from its input's), nor the enrichment (session.Stream.Geo).

func appendItem(dst []byte, si *sortItem) []byte {
	it := &si.it
	var flags byte
	if it.Flow {
		flags = 1
	}
	dst = append(dst, flags)
	dst = appendTime(dst, it.Time)
	if it.Flow {
		dst = appendTime(dst, it.End)
	}
	dst = binary.AppendVarint(dst, int64(si.input))
	dst = binary.AppendVarint(dst, si.seq)
	dst = binary.AppendUvarint(dst, uint64(si.geo))
	dst = binary.AppendUvarint(dst, it.Evidence.Packet)
	dst = binary.AppendUvarint(dst, it.Evidence.Line)
	dst = binary.AppendVarint(dst, it.Evidence.Offset)
	dst = binary.AppendVarint(dst, int64(it.Status))
	dst = binary.AppendVarint(dst, it.Bytes)
	ip, _ := it.IP.MarshalBinary()
	dst = appendBytes(dst, ip)
	for _, s := range [...]string{it.ID, it.Evidence.File, it.Kind, it.UserAgent, it.Credential, it.Fingerprint,
		it.Method, it.Path, it.User, it.Action, it.KeyID, it.Issuer, it.JA3, it.JA4, it.HASSH} {
		dst = appendBytes(dst, []byte(s))
	}
	return dst
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// itemReader reads the fields of one spilled item in order; the first
// error sticks.
type itemReader struct {
	b   []byte
	err error
}

var errCorruptItem = errors.New("corrupt item")

func (r *itemReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errCorruptItem, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *itemReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errCorruptItem, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *itemReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errCorruptItem, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *itemReader) time() time.Time {
	sec := r.varint()
	nsec := r.uvarint()
	if nsec >= 1e9 {
		r.err = errCorruptItem
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func decodeItem(b []byte, si *sortItem) error {
	r := &itemReader{b: b}
	if len(r.b) == 0 {
		return errCorruptItem
	}
	it := session.Item{Flow: r.b[0]&1 != 0}
	r.b = r.b[1:]
	it.Time = r.time()
	if it.Flow {
		it.End = r.time()
	}
	input, seq, geo := r.varint(), r.varint(), r.uvarint()
	it.Evidence.Packet = r.uvarint()
	it.Evidence.Line = r.uvarint()
	it.Evidence.Offset = r.varint()
	it.Status = int(r.varint())
	it.Bytes = r.varint()
	if ip := r.bytes(); r.err == nil {
		if err := it.IP.UnmarshalBinary(ip); err != nil {
			return errCorruptItem
		}
	}
	for _, p := range [...]*string{&it.ID, &it.Evidence.File, &it.Kind, &it.UserAgent, &it.Credential, &it.Fingerprint,
		&it.Method, &it.Path, &it.User, &it.Action, &it.KeyID, &it.Issuer, &it.JA3, &it.JA4, &it.HASSH} {
		*p = string(r.bytes())
	}
	if r.err != nil {
		return r.err
	}
	if geo >= 1<<32 {
		return errCorruptItem
	}
	*si = sortItem{it: it, input: int32(input), seq: seq, geo: uint32(geo)}
	return nil
}

// itemSink takes one input's records as they are read: it feeds them to
// the sorter as session items (when s is set) and says which to keep in
// the input's result, where they are hashed and enriched as Run's are:
// with keep, those hop chains need (events with a forwarded-for path, as
// trace reads them, and flows).
type itemSink struct {
	s      *extsort.Sorter[sortItem]
	events *SpooledEvents // when set, every event also goes here
	flows  *SpooledFlows  // when set, every flow goes here instead of the result
	// proxied, when set, takes the events keep keeps (those with a
	// forwarded-for path) instead of the result.
	proxied *SpooledEvents
	keep    bool
	input   int32
	seq     int64
	offset  time.Duration // --clock-offset of a capture (logs apply their own)
	// store, when set, takes every record as ingestOne would finish it
	// (the input's SHA-256, sha, taken before reading; a capture's clock
	// offset; enrichment by enr), as it is read.
	store interface {
		Flow(forensics.Flow)
		Event(forensics.Event)
	}
	sha string
	enr *enrich.Enricher
}

func (k *itemSink) event(e *forensics.Event) (keep bool) {
	k.seq++
	if k.s != nil {
		k.s.Add(sortItem{it: session.EventItem(e), input: k.input, seq: k.seq})
	}
	if k.events != nil {
		k.events.add(k.input, k.seq, e)
	}
	if k.store != nil {
		ev := *e
		ev.Evidence.SHA256 = k.sha
		if ip := ev.Actor(); k.enr != nil && ip.IsValid() {
			ev.SrcGeo = k.enr.LookupShared(ip, ev.Time.Time)
		}
		k.store.Event(ev)
	}
	if !k.keep || len(e.ProxyChain) < 2 {
		return false
	}
	if k.proxied != nil {
		k.proxied.add(k.input, k.seq, e)
		return false
	}
	return true
}

// flow takes a flow as read: a capture's clock offset is applied to its
// item and its spooled copy here, and to a kept flow by ingestOne as to
// every flow of Run.
func (k *itemSink) flow(f *forensics.Flow, capture bool) (keep bool) {
	if k.s == nil && k.store == nil && k.flows == nil {
		return k.keep
	}
	g := *f
	if capture && k.offset != 0 {
		g.Start = forensics.NewTime(g.Start.Add(k.offset))
		g.End = forensics.NewTime(g.End.Add(k.offset))
	}
	if k.s != nil || k.flows != nil {
		k.seq++
	}
	if k.s != nil {
		k.s.Add(sortItem{it: session.FlowItem(&g), input: k.input, seq: k.seq})
	}
	if k.flows != nil {
		k.flows.add(k.input, k.seq, &g)
		return false
	}
	if k.store != nil {
		g.Evidence.SHA256 = k.sha
		enrichFlow(k.enr, &g)
		k.store.Flow(g)
	}
	return k.keep
}
