package logs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// TestRecordIDMatchesHashID: recordID (decimal line counted up, IDs cut
// from shared blocks) gives forensics.HashID's IDs, line after line and
// after jumps.
func TestRecordIDMatchesHashID(t *testing.T) {
	// Names whose ID message is one SHA-256 block, right at the edge, and two.
	for _, c := range []struct {
		file  string
		share bool
	}{{"bench-data/logs/combined.log", false}, {"bench-data/logs/combined.log", true}, {"a", true},
		{"/cases/2025-0042/evidence/web01/access.log", true}, {"/cases/2025-0042/evidence/web01/var/log/nginx/access.log.1", true},
		// names whose blocks are hashed once per file (63 to 200 bytes with the NUL)
		{strings.Repeat("d/", 31), true}, {strings.Repeat("d/", 31) + "a", true}, {strings.Repeat("d/", 32), true},
		{strings.Repeat("d/", 63), true}, {strings.Repeat("d/", 63) + "a", false}, {strings.Repeat("é", 100), true}} {
		file, share := c.file, c.share
		st := &state{file: file, opts: Options{ShareLines: share}}
		var ids []string
		var want []string
		lines := []uint64{}
		for l := uint64(1); l <= 12000; l++ {
			lines = append(lines, l)
		}
		lines = append(lines, 99, 100, 100, 999999, 1000000, 1000001, 7, 0, 1, 1<<40, 123456789012345)
		for i, l := range lines {
			st.line, st.offset = l, int64(i)*173
			if l > 1e9 {
				st.offset = int64(l) * 1000
			}
			ids = append(ids, st.recordID("ev"))
			want = append(want, forensics.HashID("ev", st.file, strconv.FormatUint(l, 10), strconv.FormatInt(st.offset, 10)))
		}
		for i := range ids {
			if ids[i] != want[i] {
				t.Fatalf("%s (share %v): line %d: recordID %s, HashID %s", file, share, lines[i], ids[i], want[i])
			}
		}
	}
}

// BenchmarkRecordID: one event ID per op, for evidence paths whose ID
// message is one SHA-256 block (20 bytes), two (43) and two after a block
// of the path hashed once per file (100).
func BenchmarkRecordID(b *testing.B) {
	for _, file := range []string{"bench-data/c.log", "/work/main/bench-data/logs/combined-1m.log",
		"/cases/2025-0042/evidence/web01/var/log/nginx/very/long/path/of/the/evidence/access.log.1"} {
		b.Run(strconv.Itoa(len(file))+"B", func(b *testing.B) {
			st := &state{file: file, opts: Options{ShareLines: true}}
			for i := 0; b.Loop(); i++ {
				st.line, st.offset = uint64(i+1000000), int64(i)*173+100000000
				st.recordID("ev")
				if len(st.idBlock) > 3000 {
					st.idBlock = st.idBlock[:0]
				}
			}
		})
	}
}
