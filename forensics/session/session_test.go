package session

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

var t0 = time.Date(2025, 6, 2, 3, 0, 0, 0, time.UTC)

func ev(sec int, ip, ua, cred, path string, status int) forensics.Event {
	return forensics.Event{
		ID: fmt.Sprintf("e%06d-%s", sec, ip), Time: forensics.NewTime(t0.Add(time.Duration(sec) * time.Second)),
		SourceKind: "web", SrcIP: netip.MustParseAddr(ip), Method: "GET", Path: path, Status: status,
		UserAgent: ua, Credential: cred, Bytes: 100,
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		name, in, tmpl string
		seq            int64
		hasSeq         bool
		objects        int
	}{
		{"numeric id", "/api/users/1234/orders", "/api/users/{n}/orders", 1234, true, 1},
		{"uuid", "/v1/items/3f2b8c1e-9a4d-4e6b-8c2a-1d2e3f4a5b6c", "/v1/items/{uuid}", 0, false, 1},
		{"hex", "/blob/deadbeef1234", "/blob/{hex}", 0, false, 1},
		{"email", "/u/alice@example.com/profile", "/u/{email}/profile", 0, false, 1},
		{"page query", "/api/list?page=7&sort=asc", "/api/list?page={n}", 7, true, 0},
		{"plain", "/index.html", "/index.html", 0, false, 0},
		{"word not hex", "/cafe/added", "/cafe/added", 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ParsePath(tc.in)
			if p.Template != tc.tmpl || p.Seq != tc.seq || p.HasSeq != tc.hasSeq || len(p.Objects) != tc.objects {
				t.Errorf("ParsePath(%q) = %+v", tc.in, p)
			}
		})
	}
}

func TestBuildEvents(t *testing.T) {
	var evs []forensics.Event
	// one actor reading users 100..119 every 30 s
	for i := range 20 {
		evs = append(evs, ev(i*30, "198.51.100.7", "Scraper/1.0", "key-a", fmt.Sprintf("/api/users/%d", 100+i), 200))
	}
	// same address and agent after a 2 h pause: a new session
	evs = append(evs, ev(20*30+7200, "198.51.100.7", "Scraper/1.0", "key-a", "/api/users/500", 404))
	// same address, other agent: its own session
	evs = append(evs, ev(10, "198.51.100.7", "Mozilla/5.0", "", "/.env", 404))
	// a crawler
	evs = append(evs, ev(5, "66.249.66.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", "/robots.txt", 200))
	got := Build(evs, nil, DefaultOptions())
	if len(got) != 4 {
		t.Fatalf("sessions %d, want 4: %+v", len(got), got)
	}
	var scr, probe, bot *forensics.Session
	for i := range got {
		s := &got[i]
		switch {
		case s.Indicators.Credential == "key-a" && s.Events == 20:
			scr = s
		case s.Indicators.ProbeHits > 0:
			probe = s
		case s.Indicators.Crawler:
			bot = s
		}
	}
	if scr == nil || probe == nil || bot == nil {
		t.Fatalf("missing sessions: %+v", got)
	}
	ind := scr.Indicators
	if ind.Objects != 20 || ind.SeqRun != 20 || ind.FirstObject != 100 || ind.LastObject != 119 || ind.SeqTemplate != "/api/users/{n}" {
		t.Errorf("scraper indicators %+v", ind)
	}
	if ind.BeaconPeriod != 30 || ind.BeaconScore < 0.9 {
		t.Errorf("beacon %v %v", ind.BeaconPeriod, ind.BeaconScore)
	}
	if ind.Prefix != "198.51.100.0/24" || !slices.Equal(ind.PathTemplates, []string{"/api/users/{n}"}) {
		t.Errorf("prefix %q templates %v", ind.Prefix, ind.PathTemplates)
	}
	if probe.Indicators.NotFound != 1 {
		t.Errorf("probe %+v", probe.Indicators)
	}
	// shuffled input, same output
	sh := slices.Clone(evs)
	slices.Reverse(sh)
	again := Build(sh, nil, DefaultOptions())
	for i := range got {
		if got[i].ID != again[i].ID {
			t.Fatalf("order changed the sessions: %s vs %s", got[i].ID, again[i].ID)
		}
	}
}

func TestBuildFlows(t *testing.T) {
	f := func(sec int, ip, ja4 string) forensics.Flow {
		return forensics.Flow{ID: fmt.Sprintf("f%d", sec), Proto: "tcp", SrcIP: netip.MustParseAddr(ip), DstIP: netip.MustParseAddr("192.0.2.1"),
			Start: forensics.NewTime(t0.Add(time.Duration(sec) * time.Second)), End: forensics.NewTime(t0.Add(time.Duration(sec+2) * time.Second)),
			BytesOut: 10, BytesIn: 20, TLS: &forensics.TLSMeta{JA4: ja4}}
	}
	flows := []forensics.Flow{f(0, "203.0.113.5", "t13d1516h2_x"), f(60, "203.0.113.5", "t13d1516h2_x"), f(90, "203.0.113.5", "t13d0000_y"), f(4000, "203.0.113.5", "t13d1516h2_x")}
	got := Build(nil, flows, DefaultOptions())
	if len(got) != 3 {
		t.Fatalf("sessions %d, want 3", len(got))
	}
	if got[0].Events != 2 || got[0].Bytes != 60 || got[0].Indicators.JA4 != "t13d1516h2_x" || got[0].Kind != "flow" {
		t.Errorf("first session %+v", got[0])
	}
}

func TestBeacon(t *testing.T) {
	var reg, irr []time.Time
	for i := range 20 {
		reg = append(reg, t0.Add(time.Duration(i)*time.Minute))
		irr = append(irr, t0.Add(time.Duration(i*i*i)*time.Second))
	}
	if p, s := Beacon(reg); p != 60 || s < 0.99 {
		t.Errorf("regular: %v %v", p, s)
	}
	if _, s := Beacon(irr); s >= 0.7 {
		t.Errorf("irregular scored %v", s)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/api/users/1234", "/a?page=2&id=x", "/u/a@b.c", "/%00/../../etc/passwd", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		info := ParsePath(p)
		if len(info.Template) > len(p)+64*8+32 {
			t.Fatalf("template grew: %d from %d", len(info.Template), len(p))
		}
	})
}

// TestSweepChangesNothing: ending sessions as the items' time passes
// their gap (what keeps Stream's memory bounded) gives the sessions that
// ending them only at their key's next item gives, on events and flows
// whose keys return at every distance from the gap.
func TestSweepChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var evs []forensics.Event
	var fls []forensics.Flow
	at := t0
	for i := range 3000 {
		at = at.Add(time.Duration(r.IntN(240)) * time.Second)
		ip := fmt.Sprintf("198.51.100.%d", r.IntN(12))
		e := ev(0, ip, []string{"a", "b"}[r.IntN(2)], "", fmt.Sprintf("/x/%d", i), 200)
		e.ID, e.Time = fmt.Sprintf("e%05d", i), forensics.NewTime(at)
		evs = append(evs, e)
		fls = append(fls, forensics.Flow{
			ID: fmt.Sprintf("f%05d", i), SrcIP: netip.MustParseAddr(ip), Start: forensics.NewTime(at),
			End: forensics.NewTime(at.Add(time.Duration(r.IntN(3600)) * time.Second)), BytesOut: 10,
		})
	}
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	for _, gap := range []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute} {
		o := DefaultOptions()
		o.Gap = gap
		got, want := build(evs, fls, o, false), build(evs, fls, o, true)
		if len(want) < 20 {
			t.Fatalf("gap %v: %d sessions: the case tests little", gap, len(want))
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("gap %v: %d sessions with sweeps, %d without", gap, len(got), len(want))
		}
	}
}

// FuzzStream: whatever the records (times of any year, in any order, and
// gaps of any length), sweeping ends no session differently from ending
// it at its key's next record, and grouping never panics.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 4, 5, 250, 6, 7}, int64(60))
	f.Add([]byte{255, 255, 255, 0, 0, 0, 1, 1, 1}, int64(1))
	f.Fuzz(func(t *testing.T, data []byte, gapSec int64) {
		if len(data) > 3000 {
			return
		}
		var evs []forensics.Event
		var fls []forensics.Flow
		at := t0
		for i := 0; i+2 < len(data); i += 3 {
			step := time.Duration(int8(data[i])) * time.Duration(1+int64(data[i+2])%4000) * time.Second
			if data[i] == 255 {
				at = time.Date(1+int(data[i+2])*39, 1, 1, 0, 0, 0, 0, time.UTC) // far times
			}
			at = at.Add(step)
			ip := fmt.Sprintf("198.51.100.%d", data[i+1]%8)
			e := ev(0, ip, []string{"a", "b"}[data[i+1]>>7], "", fmt.Sprintf("/x/%d", data[i+2]), 200)
			e.ID, e.Time = fmt.Sprintf("e%05d", i), forensics.NewTime(at)
			evs = append(evs, e)
			fls = append(fls, forensics.Flow{ID: fmt.Sprintf("f%05d", i), SrcIP: netip.MustParseAddr(ip),
				Start: forensics.NewTime(at), End: forensics.NewTime(at.Add(step)), BytesIn: 1})
		}
		o := DefaultOptions()
		o.Gap = time.Duration(max(1, gapSec%100000)) * time.Second
		got, want := build(evs, fls, o, false), build(evs, fls, o, true)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Fatalf("%d sessions with sweeps, %d without", len(got), len(want))
		}
	})
}

// TestMethodsClosedSet: a session counts registered HTTP methods by name
// and any other method a log names as OTHER, so that the sessions CSV
// (a column per method) cannot be widened by crafted methods.
func TestMethodsClosedSet(t *testing.T) {
	var evs []forensics.Event
	for i, m := range []string{"GET", "POST", "PROPFIND", "get", "FOO", "GET /x", "A\x00B", "GET"} {
		e := ev(i, "198.51.100.7", "ua", "", "/", 200)
		e.Method = m
		evs = append(evs, e)
	}
	ss := Build(evs, nil, Options{})
	if len(ss) != 1 {
		t.Fatalf("%d sessions, want 1", len(ss))
	}
	want := map[string]int{"GET": 2, "POST": 1, "PROPFIND": 1, "OTHER": 4}
	if got := ss[0].Indicators.Methods; !maps.Equal(got, want) {
		t.Errorf("methods %v, want %v", got, want)
	}
}
