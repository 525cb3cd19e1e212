package main

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Addresses of the relay scenario (documentation ranges: RFC 5737).
var (
	relayOrigin    = netip.MustParseAddr("203.0.113.10")  // the actor
	relayAddr      = netip.MustParseAddr("198.51.100.20") // rented relay
	relayTarget    = netip.MustParseAddr("192.0.2.80")    // the victim
	relayOther     = netip.MustParseAddr("203.0.113.77")  // another user of the relay
	relayOtherDest = netip.MustParseAddr("198.51.100.99") // where that user goes
	relayCustomer  = netip.MustParseAddr("192.0.2.150")   // an ordinary client of the victim
)

// writeRelay writes captures from two vantage points around a relay
// (forensics/trace): relay-provider.pcap, taken at the relay's provider,
// holds the origin's connections to the relay's proxy port and those of
// an unrelated user of the same relay at interleaved times;
// victim.pcap, taken at the victim, holds the relay's connections to the
// victim (each 20–40 ms after one of the origin's) and an ordinary
// client's. The unrelated user's traffic leaves the relay towards an
// address neither capture sees, so a correct tracer pairs only origin →
// relay → victim. Deterministic from a fixed seed; a few kilobytes.
func writeRelay(dir string) error {
	r := rand.New(rand.NewPCG(6, 2025))
	base := time.Date(2025, 7, 8, 2, 10, 0, 0, time.UTC)
	provider, victim := newPacketWriter(), newPacketWriter()
	port := uint16(40000)
	conn := func(pw *packetWriter, c, s netip.Addr, sport uint16, t time.Time, req, resp int) error {
		port++
		k := &tcpConn{pw: pw, c: c, s: s, cport: port, sport: sport, cseq: r.Uint32(), sseq: r.Uint32(), t: t, rtt: 20 * time.Millisecond}
		if err := k.open(); err != nil {
			return err
		}
		if err := k.exchange(appData(req, 0x17), appData(resp, 0x17)); err != nil {
			return err
		}
		return k.close()
	}
	// The origin's relayed requests: irregular gaps of 1.5–6 s, each
	// forwarded by the relay 20–40 ms later.
	t := base
	var originTimes []time.Time
	for range 14 {
		t = t.Add(time.Duration(1500+r.IntN(4500)) * time.Millisecond)
		originTimes = append(originTimes, t)
		if err := conn(provider, relayOrigin, relayAddr, 3128, t, 120+r.IntN(80), 300+r.IntN(400)); err != nil {
			return err
		}
		fwd := t.Add(time.Duration(20+r.IntN(20)) * time.Millisecond)
		if err := conn(victim, relayAddr, relayTarget, 443, fwd, 120+r.IntN(80), 300+r.IntN(400)); err != nil {
			return err
		}
	}
	// The unrelated user: same relay, same time span, its own rhythm,
	// always at least 0.7 s away from any of the origin's requests.
	t = base.Add(700 * time.Millisecond)
	end := originTimes[len(originTimes)-1]
	for t.Before(end) {
		t = t.Add(time.Duration(1100+r.IntN(3000)) * time.Millisecond)
		near := false
		for _, o := range originTimes {
			if d := t.Sub(o); d > -700*time.Millisecond && d < 700*time.Millisecond {
				near = true
			}
		}
		if near {
			continue
		}
		if err := conn(provider, relayOther, relayAddr, 3128, t, 100+r.IntN(100), 200+r.IntN(300)); err != nil {
			return err
		}
		_ = relayOtherDest // leaves the relay unseen by either capture
	}
	// An ordinary client of the victim, not through the relay.
	t = base
	for range 6 {
		t = t.Add(time.Duration(4000+r.IntN(5000)) * time.Millisecond)
		if err := conn(victim, relayCustomer, relayTarget, 443, t, 150, 600); err != nil {
			return err
		}
	}
	for name, pw := range map[string]*packetWriter{"relay-provider.pcap": provider, "victim.pcap": victim} {
		var out bytes.Buffer
		w := pcapgo.NewWriter(&out)
		if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			return err
		}
		if err := pw.flush(w); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
