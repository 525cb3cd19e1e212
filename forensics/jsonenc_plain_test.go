package forensics

import (
	"math/rand/v2"
	"testing"
)

// plain8 agrees with a byte-by-byte check for every byte value in
// every position and for random words.
func TestPlainJSON8(t *testing.T) {
	slow := func(x uint64) bool {
		for range 8 {
			b := byte(x)
			if b < 0x20 || b >= 0x80 || b == '"' || b == '\\' {
				return false
			}
			x >>= 8
		}
		return true
	}
	check := func(x uint64) {
		if plain8(x) != slow(x) {
			t.Fatalf("plain8(%#x) = %v", x, plain8(x))
		}
	}
	const base = 0x6161616161616161 // "aaaaaaaa"
	for pos := range 8 {
		for b := range 256 {
			check(base&^(0xff<<(8*pos)) | uint64(b)<<(8*pos))
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		x := r.Uint64()
		check(x)
		check(x & 0x7f7f7f7f7f7f7f7f)
	}
}

func BenchmarkAppendJSONString(b *testing.B) {
	s := "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-51-45-43-21,29-23-24,0"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	var buf []byte
	for b.Loop() {
		buf = appendJSONString(buf[:0], s)
	}
}
