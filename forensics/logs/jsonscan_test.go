package logs

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// refStr is the plain reading of a JSON string's end: the first quote
// not preceded by an odd run of backslashes.
func refStr(s string, i int) (int, bool) {
	j := i + 1
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return i, false
		}
		j += k
		bs := 0
		for b := j - 1; b > i && s[b] == '\\'; b-- {
			bs++
		}
		if bs%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

// TestJSONStrMatchesReference: the word-at-a-time str finds the same end
// as the plain reading, and reports a backslash exactly when there is one.
func TestJSONStrMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{'"', '\\', 'a', ' ', 0x80, 0xff, 'z', '\\', '"', 'é' & 0xff}
	for range 200000 {
		b := make([]byte, 1+r.IntN(40))
		b[0] = '"'
		for k := 1; k < len(b); k++ {
			if r.IntN(3) == 0 {
				b[k] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[k] = byte('a' + r.IntN(26))
			}
		}
		s := string(b)
		w := jsonWalker{s: s}
		end, esc, err := w.str(0)
		wantEnd, ok := refStr(s, 0)
		if (err == nil) != ok || (ok && end != wantEnd) {
			t.Fatalf("%q: str %d %v, reference %d %v", s, end, err, wantEnd, ok)
		}
		if ok && esc != strings.Contains(s[1:end-1], `\`) {
			t.Fatalf("%q: esc %v", s, esc)
		}
	}
}
