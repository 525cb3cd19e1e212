package extsort

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

type kv struct {
	k   int64
	seq int64
}

func intSorter(chunk int) *Sorter[kv] {
	return &Sorter[kv]{Chunk: chunk, What: "test",
		Cmp: func(a, b *kv) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.seq, b.seq)) },
		Enc: func(dst []byte, v *kv) []byte { return binary.AppendVarint(binary.AppendVarint(dst, v.k), v.seq) },
		Dec: func(b []byte, v *kv) error {
			k, n := binary.Varint(b)
			if n <= 0 {
				return errors.New("bad key")
			}
			seq, m := binary.Varint(b[n:])
			if m <= 0 || n+m != len(b) {
				return errors.New("bad seq")
			}
			*v = kv{k, seq}
			return nil
		}}
}

// TestSorterOrders: with chunks that spill many runs, one that holds
// everything, and none at all, Each gives every value in order, twice.
func TestSorterOrders(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var in []kv
	for i := range 5000 {
		in = append(in, kv{k: r.Int64N(300) - 150, seq: int64(i)})
	}
	want := slices.Clone(in)
	slices.SortFunc(want, func(a, b kv) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.seq, b.seq)) })
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		in, want := in, want
		if chunk == 1 {
			// A run per value: few values, few files.
			in = in[:40]
			want = slices.Clone(in)
			slices.SortFunc(want, func(a, b kv) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.seq, b.seq)) })
		}
		s := intSorter(chunk)
		for _, v := range in {
			s.Add(v)
		}
		for pass := range 2 {
			var got []kv
			if err := s.Each(func(v *kv) error { got = append(got, *v); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("chunk %d, pass %d: out of order", chunk, pass)
			}
		}
		stop := errors.New("stop")
		if err := s.Each(func(*kv) error { return stop }); err != stop {
			t.Errorf("chunk %d: Each returned %v, want fn's error", chunk, err)
		}
		s.Cleanup()
	}
	s := intSorter(3)
	if err := s.Each(func(*kv) error { t.Fatal("value from an empty sorter"); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestSorterEachConcurrent: calls of Each at once (a report's tables
// written side by side) each see every value in order, including the
// first calls, which spill the last chunk. Run under -race (make test).
func TestSorterEachConcurrent(t *testing.T) {
	for _, chunk := range []int{7, 1 << 20} {
		s := intSorter(chunk)
		var want []kv
		for i := range 500 {
			v := kv{k: int64((i * 7919) % 211), seq: int64(i)}
			s.Add(v)
			want = append(want, v)
		}
		slices.SortFunc(want, func(a, b kv) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.seq, b.seq)) })
		got := make([][]kv, 4)
		var wg sync.WaitGroup
		for g := range got {
			wg.Go(func() {
				if err := s.Each(func(v *kv) error { got[g] = append(got[g], *v); return nil }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for g := range got {
			if !slices.Equal(got[g], want) {
				t.Errorf("chunk %d, reader %d: %d values, out of order or missing", chunk, g, len(got[g]))
			}
		}
		s.Cleanup()
	}
}
