package report

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// bigCase scales the test case to n sessions (one event each) in n/20
// campaigns, to see how each renderer grows.
func bigCase(n int) *forensics.Case {
	c := testCase(false)
	base := c.Sessions[0]
	ev := c.Events[0]
	c.Sessions, c.Events, c.Campaigns = nil, nil, nil
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		s := base
		s.ID = fmt.Sprintf("se-%06d", i)
		s.SrcIP = netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)})
		s.Start = forensics.NewTime(t0.Add(time.Duration(i) * time.Minute))
		s.End = forensics.NewTime(t0.Add(time.Duration(i)*time.Minute + 30*time.Second))
		g := *s.SrcGeo
		g.IP = s.SrcIP
		s.SrcGeo = &g
		c.Sessions = append(c.Sessions, s)
		e := ev
		e.ID = fmt.Sprintf("ev-%06d", i)
		e.SrcIP = s.SrcIP
		e.Time = s.Start
		c.Events = append(c.Events, e)
		if i%20 == 19 {
			cp := testCase(false).Campaigns[0]
			cp.ID = fmt.Sprintf("cp-%05d", i/20)
			cp.Sessions, cp.IPs = nil, nil
			for j := i - 19; j <= i; j++ {
				cp.Sessions = append(cp.Sessions, c.Sessions[j].ID)
				cp.IPs = append(cp.IPs, c.Sessions[j].SrcIP.String())
			}
			c.Campaigns = append(c.Campaigns, cp)
		}
	}
	return c
}

func BenchmarkRender(b *testing.B) {
	for _, n := range []int{100, 2000} {
		c := bigCase(n)
		for _, f := range AllFormats {
			b.Run(fmt.Sprintf("%s/sessions=%d", f, n), func(b *testing.B) {
				b.ReportAllocs()
				dir := b.TempDir()
				for b.Loop() {
					if _, err := WriteBundle(context.Background(), c, Options{OutDir: dir, Formats: []string{f}, ReportTime: pinned}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	if _, err := WriteBundle(context.Background(), bigCase(2000), Options{OutDir: dir, ReportTime: pinned}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := Verify(dir, ""); err != nil || !res.OK() {
			b.Fatal(err, res)
		}
	}
}
