package analyze

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestInOrder(t *testing.T) {
	stop := errors.New("stop")
	for _, tc := range []struct {
		name     string
		n        int
		workers  int
		stopAt   int // emit error at this index; -1 never
		wantSeen int
		wantErr  error
	}{
		{"all in order", 50, 4, -1, 50, nil},
		{"one worker", 10, 1, -1, 10, nil},
		{"no inputs", 0, 0, -1, 0, nil},
		{"emit error stops", 50, 3, 7, 8, stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			delays := make([]time.Duration, tc.n)
			for i := range delays {
				delays[i] = time.Duration(r.IntN(2000)) * time.Microsecond
			}
			var seen []int
			err := InOrder(context.Background(), tc.n, tc.workers,
				func(ctx context.Context, i int) int { time.Sleep(delays[i]); return i * 10 },
				func(i, v int) error {
					if v != i*10 || i != len(seen) {
						t.Fatalf("emit(%d, %d) after %d results", i, v, len(seen))
					}
					seen = append(seen, i)
					if i == tc.stopAt {
						return stop
					}
					return nil
				})
			if !errors.Is(err, tc.wantErr) || len(seen) != tc.wantSeen {
				t.Errorf("err %v, %d results; want %v, %d", err, len(seen), tc.wantErr, tc.wantSeen)
			}
		})
	}
	// A cancelled context ends the run instead of waiting for results
	// that will never be made.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error)
	go func() {
		done <- InOrder(ctx, 1000, 2, func(context.Context, int) int { time.Sleep(time.Millisecond); return 0 }, func(int, int) error { return nil })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled run did not return")
	}
}
