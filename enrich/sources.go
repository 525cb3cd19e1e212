package enrich

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"net/netip"
	"sync/atomic"
)

// Sources lists the database builds that answered a Record, in lookup
// order (DESIGN §4 "sources"). A looked-up record holds them compactly,
// without memory of its own: a description of which builds answered
// which fields, shared by every record with the same description, plus
// the prefix length each build matched (its network is the looked-up
// address cut to that length). That keeps an owned record to one
// allocation of the record alone; the sources were half its bytes, and
// writing fresh memory was a third of an uncached lookup's time. A
// record decoded or built by hand (MakeSources) holds the list itself.
// The zero value lists no sources. Read-only: share it freely.
type Sources struct {
	set  *sourceSet
	addr netip.Addr // compact: the address looked up
	// bits[i] is 1 + the prefix length of source i's network (compact;
	// 0: no network, as for the hosting list).
	bits [maxCompactSources]uint8
}

// maxCompactSources is how many sources a compact list holds; a lookup
// answered by more builds (many databases given) lists them in full.
const maxCompactSources = 8

// sourceSet is the shared part of a list: the sources with their network
// left zero (compact), or the whole list (made by hand).
type sourceSet struct {
	list    []Source
	compact bool
}

// MakeSources wraps a list made elsewhere (decoded, built by hand); the
// list is kept, not copied.
func MakeSources(list []Source) Sources {
	if len(list) == 0 {
		return Sources{}
	}
	return Sources{set: &sourceSet{list: list}}
}

// Len is the number of sources.
func (s Sources) Len() int {
	if s.set == nil {
		return 0
	}
	return len(s.set.list)
}

// IsZero reports an empty list (JSON omits it).
func (s Sources) IsZero() bool { return s.Len() == 0 }

// At returns source i (0 <= i < Len()).
func (s Sources) At(i int) Source {
	src := s.set.list[i]
	if s.set.compact && s.bits[i] != 0 {
		src.Network, _ = s.addr.Prefix(int(s.bits[i]) - 1)
	}
	return src
}

// All yields the sources in order with their index.
func (s Sources) All() iter.Seq2[int, Source] {
	return func(yield func(int, Source) bool) {
		for i := range s.Len() {
			if !yield(i, s.At(i)) {
				return
			}
		}
	}
}

// List returns the sources as a slice: the record's own list when it
// was made by hand (shared: modify it only in a record you own), else a
// new one.
func (s Sources) List() []Source {
	if s.set == nil {
		return nil
	}
	if !s.set.compact {
		return s.set.list
	}
	out := make([]Source, len(s.set.list))
	for i := range out {
		out[i] = s.At(i)
	}
	return out
}

// MarshalJSON writes the list as []Source would be written. HTML
// characters are left as they are: an encoder that escapes them escapes
// this output too, and one told not to would otherwise still get them
// escaped.
func (s Sources) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.List()); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// UnmarshalJSON reads a list written by MarshalJSON (or as []Source).
func (s *Sources) UnmarshalJSON(b []byte) error {
	var list []Source
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = MakeSources(list)
	return nil
}

// setKey identifies a shared source description: one word per source
// (see sourceWord), in order, and how many.
type setKey struct {
	n     int
	words [maxCompactSources]uint64
}

// sourceWord packs one source of a description: which build (hostingID
// for the hosting list), which fields it answered, and for snapshot sets
// whether the distance is recorded, whether the build postdates the
// event, and the distance in days.
func sourceWord(id uint16, used field, dated, after bool, dist int32) uint64 {
	w := uint64(id&idMask)<<50 | uint64(used)<<32 | uint64(uint32(dist))
	if dated {
		w |= 1 << 49
	}
	if after {
		w |= 1 << 48
	}
	return w
}

const (
	idMask    = 1<<14 - 1
	hostingID = idMask // the embedded hosting list
)

// setEntry is one slot of the table of shared descriptions.
type setEntry struct {
	key  setKey
	set  sourceSet
	dist [maxCompactSources]int
}

// The table keeps 1 << setTableBits descriptions: the distinct
// combinations of builds, answered fields and snapshot distances are few
// (the distances vary only with the event's day), and one pushed out is
// rebuilt on its next use.
const (
	setTableBits = 10
	setTableSize = 1 << setTableBits
)

// sourceSetOf returns the shared description for k, from the table
// (lock-free: an entry is immutable and replaced whole) or newly built.
func (e *Enricher) sourceSetOf(k *setKey) *sourceSet {
	h := uint64(k.n)
	for _, w := range k.words[:k.n] {
		h = (h ^ w) * 0x9E3779B97F4A7C15
	}
	slot := &e.sets[h>>(64-setTableBits)]
	if en := slot.Load(); en != nil && en.key == *k {
		return &en.set
	}
	en := &setEntry{key: *k, set: sourceSet{list: make([]Source, k.n), compact: true}}
	for i, w := range k.words[:k.n] {
		s := &en.set.list[i]
		id, used := uint16(w>>50)&idMask, field(w>>32)
		if id == hostingID {
			hi := &e.hosting.info
			s.DB, s.Type, s.Build, s.SHA256, s.Fields = hi.Name, hi.Type, hi.Build, hi.SHA256, e.hosting.fields
			continue
		}
		info := &e.byID[id].info
		s.DB, s.Type, s.Build, s.SHA256 = info.Name, info.Type, info.Build, info.SHA256
		s.Fields = e.fieldNames(used)
		if w&(1<<49) != 0 {
			en.dist[i] = int(int32(uint32(w)))
			s.SnapshotDistanceDays = &en.dist[i]
			s.AfterEvent = w&(1<<48) != 0
		}
	}
	slot.Store(en)
	return &en.set
}

// setTable is the Enricher's table of shared descriptions.
type setTable = [setTableSize]atomic.Pointer[setEntry]

// String prints the list, as %v would print []Source.
func (s Sources) String() string { return fmt.Sprintf("%+v", s.List()) }
