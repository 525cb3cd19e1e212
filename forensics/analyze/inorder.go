package analyze

import (
	"context"
	"runtime"
	"sync"
)

// InOrder runs work(ctx, i) for every i in [0, n) on up to workers
// goroutines (0: GOMAXPROCS) and hands each result to emit in index order,
// as soon as it and all before it are done, so the outcome never depends on
// scheduling. An emit error or a cancelled ctx stops the remaining work;
// InOrder returns after every started work call has finished.
func InOrder[T any](ctx context.Context, n, workers int, work func(ctx context.Context, i int) T, emit func(i int, r T) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(n, 1))
	results := make([]chan T, n)
	for i := range results {
		results[i] = make(chan T, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] <- work(ctx, i)
			}
		})
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for i := range n {
		select {
		case r := <-results[i]:
			err = emit(i, r)
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
	}
	cancel()
	wg.Wait()
	return err
}
