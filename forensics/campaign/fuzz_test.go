package campaign

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// FuzzBuild feeds hostile session sets (odd times, huge and negative
// counts, unsorted and out-of-range profiles, shared values) to Build:
// it must not panic, and every campaign must list its sessions sorted.
func FuzzBuild(f *testing.F) {
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ss []forensics.Session
		for i := 0; len(data) >= 8 && i < 64; i++ {
			x := binary.LittleEndian.Uint64(data)
			data = data[8:]
			b := func(k uint) byte { return byte(x >> (8 * k)) }
			s := forensics.Session{
				ID:     string(rune('a' + b(0)%8)),
				SrcIP:  netip.AddrFrom4([4]byte{10, 0, b(1) % 4, b(2) % 4}),
				Start:  forensics.NewTime(time.Unix(int64(int8(b(3)))*3600, 0)),
				End:    forensics.NewTime(time.Unix(int64(int8(b(4)))*60, 0)),
				Events: int(int8(b(5))),
			}
			ind := &s.Indicators
			if b(6)&1 != 0 {
				ind.Credential = string(rune('k' + b(6)%3))
			}
			if b(6)&2 != 0 {
				ind.UserAgent = "ua" + string(rune('0'+b(7)%2))
			}
			if b(6)&4 != 0 {
				ind.HourOfWeek = []forensics.HourCount{{Hour: int(int8(b(7))), Count: int(b(5))}, {Hour: int(b(7) % 168), Count: 1}}
			}
			if b(6)&8 != 0 {
				ind.SeqTemplate, ind.FirstObject, ind.LastObject, ind.SeqRun = "/u/{n}", int64(b(1)), int64(b(2)), int(b(3))
			}
			ind.BeaconPeriod, ind.BeaconScore = float64(b(4)%8), float64(b(5))/255
			ind.Crawler = b(6)&16 != 0
			ss = append(ss, s)
		}
		o := DefaultOptions()
		o.IncludeOrdinary = true
		o.SingletonScore = 0
		o.BlockSize = 4
		for _, c := range Build(ss, o) {
			for i := 1; i < len(c.Sessions); i++ {
				if c.Sessions[i-1] > c.Sessions[i] {
					t.Fatalf("sessions not sorted: %v", c.Sessions)
				}
			}
		}
	})
}
