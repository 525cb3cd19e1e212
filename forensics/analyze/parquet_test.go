package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
)

func jsonDecoder() func([]byte, *int) error {
	return func(line []byte, v *int) error { return json.Unmarshal(line, v) }
}

// TestDecodeInOrder: records come out in line order whatever the
// workers' timing, and an error from a line, from add or from the
// reader stops the run and is returned.
func TestDecodeInOrder(t *testing.T) {
	lines := func(n, bad int) func(func([]byte) error) error {
		return func(fn func([]byte) error) error {
			for i := range n {
				line := []byte(strconv.Itoa(i) + "\n")
				if i == bad {
					line = []byte("{oops\n")
				}
				if err := fn(line); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, n := range []int{0, 1, decodeBatch, 10*decodeBatch + 7} {
		var got []int
		err := decodeInOrder(context.Background(), lines(n, -1), jsonDecoder, func(v *int) error {
			got = append(got, *v)
			return nil
		})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(got) != n {
			t.Fatalf("n=%d: %d records", n, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("n=%d: record %d is %d", n, i, v)
			}
		}
	}
	if err := decodeInOrder(context.Background(), lines(5000, 3000), jsonDecoder, func(*int) error { return nil }); err == nil {
		t.Error("a bad line gave no error")
	}
	stop := errors.New("stop")
	var added int
	err := decodeInOrder(context.Background(), lines(50000, -1), jsonDecoder, func(*int) error {
		added++
		if added == 700 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || added != 700 {
		t.Errorf("add error: err %v after %d records", err, added)
	}
	readErr := errors.New("read")
	err = decodeInOrder(context.Background(), func(fn func([]byte) error) error {
		fn([]byte("1"))
		return readErr
	}, jsonDecoder, func(*int) error { return nil })
	if !errors.Is(err, readErr) {
		t.Errorf("reader error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := decodeInOrder(ctx, lines(100000, -1), jsonDecoder, func(*int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
