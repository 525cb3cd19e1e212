package analyze

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/report"
)

// TestEventsCSVMatchesInMemory: StreamEventsCSV (`events --format csv`)
// writes the table of every event held in memory and sorted by (time,
// ID), for a spool already in order, one in time order with ties out of
// ID order, and one out of time order.
func TestEventsCSVMatchesInMemory(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t0 := time.Date(2025, 6, 24, 10, 0, 0, 0, time.UTC)
	var ordered, ties, reversed []string
	for i := range 300 {
		ts := t0.Add(time.Duration(i) * 7 * time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
		ordered = append(ordered, fmt.Sprintf(`{"@timestamp":"%s","source":{"ip":"198.51.100.%d"},"url":{"path":"/a/%d"},"user_agent":{"original":"ua <%d> & \"q\""}}`, ts, i%250, i, i%7))
		clf := t0.Add(time.Duration(i/10) * time.Second).Format("02/Jan/2006:15:04:05 -0700")
		ties = append(ties, fmt.Sprintf(`203.0.113.%d - - [%s] "GET /t/%d HTTP/1.1" 200 %d "-" "=cmd|%d"`, i%200, clf, i, i, i%3))
		reversed = append([]string{ties[len(ties)-1]}, reversed...)
	}
	cases := map[string]struct {
		inputs []string
		order  spoolOrder
	}{
		"in order":          {[]string{write("ordered.jsonl", ordered)}, inOrder},
		"ties out of order": {[]string{write("ties.log", ties)}, inTimeOrder},
		"out of order":      {[]string{write("reversed.log", reversed)}, outOfOrder},
		"several inputs":    {[]string{write("ordered2.jsonl", ordered), write("ties2.log", ties)}, outOfOrder},
	}
	for name, tc := range cases {
		inputs := tc.inputs
		t.Run(name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Inputs, opts.Until = inputs, StageIngest
			var jsonl bytes.Buffer
			if _, err := StreamEvents(context.Background(), &jsonl, opts); err != nil {
				t.Fatal(err)
			}
			ix := &lineIndex{cols: report.NewCSVColumns()}
			ix.Write(jsonl.Bytes())
			if ix.err != nil || ix.order() != tc.order {
				t.Fatalf("spool order %v (err %v), want %v: the case does not test its path", ix.order(), ix.err, tc.order)
			}
			var got bytes.Buffer
			if _, err := StreamEventsCSV(context.Background(), &got, opts); err != nil {
				t.Fatal(err)
			}
			c, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortStableFunc(c.Events, func(a, b forensics.Event) int {
				return cmp.Or(a.Time.Compare(b.Time.Time), cmp.Compare(a.ID, b.ID))
			})
			var want bytes.Buffer
			if err := report.WriteRecords(&want, "csv", c.Events); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("csv differs from the in-memory table (%d vs %d bytes)", got.Len(), want.Len())
			}
		})
	}
}
