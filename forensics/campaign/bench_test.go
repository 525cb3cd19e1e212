package campaign

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// population generates sessions with realistic indicator distributions:
// customers on a few home ISPs with their own credentials, user agents and
// JA4 values following a Zipf law (a handful of browser and app versions
// are hubs, the tail is rare), some benign crawlers, and hidden campaigns
// of an actor rotating through hosting addresses with a retained key and
// an unusual user agent. It calls emit with a reused Session.
type population struct {
	r        *rand.Rand
	uaZipf   *rand.Zipf
	ja4Zipf  *rand.Zipf
	asZipf   *rand.Zipf
	uas      []string
	ja4s     []string
	profiles [][]forensics.HourCount
	geoHome  []*enrich.Record
	geoHost  []*enrich.Record
	start    time.Time
	total    int // population size, for the share of campaign sessions
	next     int // sessions generated so far
}

func newPopulation(seed uint64, total int) *population {
	r := rand.New(rand.NewPCG(seed, 1))
	p := &population{r: r, start: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), total: total}
	p.uaZipf = rand.NewZipf(r, 1.2, 8, 49999)
	p.ja4Zipf = rand.NewZipf(r, 1.3, 4, 1999)
	p.asZipf = rand.NewZipf(r, 1.5, 2, 39)
	for i := range 50000 {
		p.uas = append(p.uas, fmt.Sprintf("Mozilla/5.0 (Linux; Android 14; SM-S%03d) AppleWebKit/537.36 Chrome/%d.0.%d Mobile Safari/537.36", i%997, 100+i%30, i))
	}
	for i := range 2000 {
		p.ja4s = append(p.ja4s, fmt.Sprintf("t13d%02d%02dh2_%012x_%012x", 10+i%9, 10+i%7, i*7919, i*104729))
	}
	for h := range 168 {
		p.profiles = append(p.profiles, []forensics.HourCount{{Hour: h, Count: 3}},
			[]forensics.HourCount{{Hour: h, Count: 2}, {Hour: (h + 1) % 168, Count: 1}})
	}
	no := false
	yes := true
	for i := range 40 {
		p.geoHome = append(p.geoHome, &enrich.Record{Country: "KR", ASN: uint32(4766 + i), ASOrg: "Home ISP " + strconv.Itoa(i), Foreign: &no})
	}
	for i, cc := range []string{"US", "NL", "SG", "DE", "JP", "GB", "FR"} {
		p.geoHost = append(p.geoHost, &enrich.Record{Country: cc, ASN: uint32(14061 + i), ASOrg: "VPS " + cc,
			Foreign: &yes, Anonymous: &enrich.Anonymous{Hosting: true}})
	}
	return p
}

func (p *population) generate(n int, emit func(*forensics.Session)) {
	var s forensics.Session
	campaigns := max(p.total/200000, 1)
	attack := p.total / 1000 // 0.1% of sessions belong to hidden campaigns
	for range n {
		i := p.next
		p.next++
		r := p.r
		s = forensics.Session{Kind: "web", Events: 2 + r.IntN(40)}
		s.ID = "ses-" + strconv.FormatUint(r.Uint64()|1<<63, 16)
		start := p.start.Add(time.Duration(r.Int64N(int64(150 * 24 * time.Hour))))
		s.Start = forensics.NewTime(start)
		s.End = forensics.NewTime(start.Add(time.Duration(r.IntN(3600)) * time.Second))
		ind := &s.Indicators
		ind.HourOfWeek = p.profiles[r.IntN(len(p.profiles))]
		switch {
		case i < attack:
			c := i % campaigns
			g := p.geoHost[r.IntN(len(p.geoHost))]
			s.SrcIP = netip.AddrFrom4([4]byte{45, byte(c), byte(r.IntN(256)), byte(1 + r.IntN(250))})
			s.SrcGeo = g
			ind.Credential = "k-retained-" + strconv.Itoa(c)
			ind.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/96.0." + strconv.Itoa(c)
			ind.Objects = 30
			ind.BeaconPeriod, ind.BeaconScore = 3, 0.9
		case r.IntN(200) == 0:
			s.SrcIP = netip.AddrFrom4([4]byte{66, 249, byte(r.IntN(4)), byte(1 + r.IntN(250))})
			ind.UserAgent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
			ind.Crawler = true
			ind.BeaconPeriod, ind.BeaconScore = 40, 0.8
		default:
			cust := r.IntN(p.total / 8)
			s.SrcIP = netip.AddrFrom4([4]byte{byte(100 + cust%100), byte(cust >> 8), byte(cust), byte(1 + r.IntN(250))})
			s.SrcGeo = p.geoHome[p.asZipf.Uint64()]
			if r.IntN(10) < 6 {
				ind.Credential = "ck_" + strconv.FormatUint(uint64(cust), 36)
			}
			ind.UserAgent = p.uas[p.uaZipf.Uint64()]
			if r.IntN(3) == 0 {
				ind.JA4 = p.ja4s[p.ja4Zipf.Uint64()]
			}
			ind.Objects = r.IntN(4)
			ind.BeaconScore = float64(r.IntN(100)) / 100
			ind.BeaconPeriod = float64(5 + r.IntN(600))
		}
		if s.SrcGeo != nil {
			ind.ASN, ind.Country = s.SrcGeo.ASN, s.SrcGeo.Country
			ind.Hosting = s.SrcGeo.Anonymous != nil && s.SrcGeo.Anonymous.Hosting
		}
		emit(&s)
	}
}

// peakRSS reads the process's peak resident set (Linux), in bytes.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkGroup streams generated sessions into a Builder and groups
// them. TRACEHOP_BENCH_SESSIONS sets the population (default 200000;
// `make bench-campaign` runs 10 million). The reported grouping time
// excludes generation; peak-RSS-MB is the whole process's high-water mark.
func BenchmarkGroup(b *testing.B) {
	n := 200000
	if v := os.Getenv("TRACEHOP_BENCH_SESSIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("TRACEHOP_BENCH_SESSIONS=%q: want a number >= 1000", v)
		}
	}
	b.ReportAllocs()
	var group, groupCPU, addCPU time.Duration
	var campaigns, attack int
	var st Stats
	for b.Loop() {
		bl := NewBuilder(DefaultOptions())
		bl.recs = make([]rec, 0, n)
		// Generate into a buffer first so that Add is timed alone.
		pop := newPopulation(7, n)
		const chunk = 100000
		buf := make([]forensics.Session, 0, chunk)
		for done := 0; done < n; done += chunk {
			buf = buf[:0]
			pop.generate(min(chunk, n-done), func(s *forensics.Session) { buf = append(buf, *s) })
			c0 := cpuTime()
			for i := range buf {
				bl.Add(&buf[i])
			}
			addCPU += cpuTime() - c0
		}
		buf = nil
		runtime.GC()
		t, c0 := time.Now(), cpuTime()
		cs, s := bl.Finish()
		group += time.Since(t)
		groupCPU += cpuTime() - c0
		campaigns, st = len(cs), s
		attack = 0
		for _, c := range cs {
			if c.Label == LabelAttack {
				attack++
			}
		}
	}
	b.ReportMetric(float64(n), "sessions")
	b.ReportMetric(group.Seconds()/float64(b.N), "finish-wall-s/op")
	b.ReportMetric(groupCPU.Seconds()/float64(b.N), "finish-cpu-s/op")
	b.ReportMetric(addCPU.Seconds()/float64(b.N), "add-cpu-s/op")
	b.ReportMetric(peakRSS()/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(campaigns), "campaigns")
	b.ReportMetric(float64(attack), "attack")
	b.ReportMetric(float64(st.CandidatePairs), "pairs")
}
