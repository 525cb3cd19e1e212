package capture

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tracehop/tracehop/forensics"
)

// benchInput is the capture the benchmarks read: $TRACEHOP_BENCH_PCAP
// (e.g. bench-data/bench-1g.pcap from `make bench-data`), else a small
// synthetic capture built in memory so `make bench` runs anywhere.
func benchInput(b *testing.B) (open func() io.Reader, size int64) {
	b.Helper()
	if p := os.Getenv("TRACEHOP_BENCH_PCAP"); p != "" {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		return func() io.Reader {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			return f
		}, st.Size()
	}
	hello := helloSpec{version: 0x0303, ciphers: []uint16{0x1301, 0xc02b}, exts: []uint16{0, 10, 16}, sni: "bench.example", alpn: []string{"h2"}, groups: []uint16{29}}.records(1 << 14)
	var pkts []synthPacket
	for i := range 20000 {
		c := [4]byte{100, 64, byte(i >> 8), byte(i)}
		at := t0.Add(time.Duration(i) * time.Millisecond)
		sp := uint16(1024 + i%60000)
		pkts = append(pkts,
			synthPacket{at, synthTCP(c, srv, sp, 443, tcpSYN, 1, nil)},
			synthPacket{at, synthTCP(srv, c, 443, sp, tcpSYN|tcpACK, 1, nil)},
			synthPacket{at, synthTCP(c, srv, sp, 443, tcpACK|0x08, 2, hello)},
			synthPacket{at, synthTCP(srv, c, 443, sp, tcpACK, 2, make([]byte, 1400))},
			synthPacket{at, synthTCP(srv, c, 443, sp, tcpACK, 1402, make([]byte, 1400))},
			synthPacket{at, synthTCP(c, srv, sp, 443, tcpFIN|tcpACK, 2+uint32(len(hello)), nil)})
	}
	data := writePcap(b, pkts)
	return func() io.Reader { return bytes.NewReader(data) }, int64(len(data))
}

// BenchmarkRead is tracehop's whole capture path: read, decode, flow
// table, Community ID, L7 metadata and fingerprints, flow records (with
// the default two flow-table shards).
func BenchmarkRead(b *testing.B) { benchRead(b, DefaultOptions()) }

// BenchmarkReadOneShard is the same on one goroutine, the like-for-like
// comparison with BenchmarkBareGopacket.
func BenchmarkReadOneShard(b *testing.B) {
	opts := DefaultOptions()
	opts.Shards = 1
	benchRead(b, opts)
}

func benchRead(b *testing.B, opts Options) {
	open, size := benchInput(b)
	b.SetBytes(size)
	b.ReportAllocs()
	var pkts int64
	for b.Loop() {
		st, err := Read(context.Background(), open(), "bench", opts, func(forensics.Flow) {})
		if err != nil {
			b.Fatal(err)
		}
		pkts = st.Packets
	}
	b.ReportMetric(float64(pkts)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkBareGopacket is the reference the issue measures against: a
// bare gopacket loop (pcapgo zero-copy reads, DecodingLayerParser with
// preallocated layers, a map of comparable flow keys to counters) over
// the same bytes, in the same run.
func BenchmarkBareGopacket(b *testing.B) {
	open, size := benchInput(b)
	b.SetBytes(size)
	b.ReportAllocs()
	var pkts int64
	for b.Loop() {
		pkts = 0
		r, err := pcapgo.NewReader(bufio.NewReaderSize(open(), readBufferSize))
		if err != nil {
			b.Fatal(err)
		}
		var (
			eth  layers.Ethernet
			dot  layers.Dot1Q
			ip4  layers.IPv4
			ip6  layers.IPv6
			tcp  layers.TCP
			udp  layers.UDP
			pl   gopacket.Payload
			decd []gopacket.LayerType
		)
		parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot, &ip4, &ip6, &tcp, &udp, &pl)
		parser.IgnoreUnsupported = true
		type key struct{ net, tr gopacket.Flow }
		type ctr struct{ pkts, bytes uint64 }
		flows := make(map[key]*ctr)
		for {
			data, _, err := r.ZeroCopyReadPacketData()
			if err != nil {
				break
			}
			pkts++
			if err := parser.DecodeLayers(data, &decd); err != nil && len(decd) == 0 {
				continue
			}
			var k key
			for _, lt := range decd {
				switch lt {
				case layers.LayerTypeIPv4:
					k.net = ip4.NetworkFlow()
				case layers.LayerTypeIPv6:
					k.net = ip6.NetworkFlow()
				case layers.LayerTypeTCP:
					k.tr = tcp.TransportFlow()
				case layers.LayerTypeUDP:
					k.tr = udp.TransportFlow()
				}
			}
			c := flows[k]
			if c == nil {
				if rk := (key{k.net.Reverse(), k.tr.Reverse()}); flows[rk] != nil {
					c = flows[rk]
				} else {
					c = &ctr{}
					flows[k] = c
				}
			}
			c.pkts++
			c.bytes += uint64(len(data))
		}
	}
	b.ReportMetric(float64(pkts)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// TestBenchScanMemory reads the scan capture from `make bench-data`
// ($TRACEHOP_BENCH_SCAN) and checks that live flows stay within the cap,
// evictions are reported, and peak RSS stays bounded.
func TestBenchScanMemory(t *testing.T) {
	p := os.Getenv("TRACEHOP_BENCH_SCAN")
	if p == "" {
		t.Skip("set TRACEHOP_BENCH_SCAN=bench-data/scan-5m.pcap (make bench-data)")
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := DefaultOptions()
	var flows int64
	start := time.Now()
	st, err := Read(context.Background(), f, filepath.Base(p), opts, func(forensics.Flow) { flows++ })
	if err != nil {
		t.Fatal(err)
	}
	rss := peakRSSKiB(t)
	t.Logf("packets %d flows %d evictions %d expired %d caps %+v peak RSS %d MiB in %v", st.Packets, flows, st.Evictions, st.Expired, st.Caps, rss/1024, time.Since(start))
	if flows < 5_000_000 {
		t.Errorf("only %d distinct flows: not the 5M-tuple scan", flows)
	}
	if st.Evictions == 0 || len(st.Caps) == 0 {
		t.Errorf("no evictions reported")
	}
	if rss > 1<<20 { // KiB: 1 GiB
		t.Errorf("peak RSS %d MiB over 1 GiB", rss/1024)
	}
}

func peakRSSKiB(t *testing.T) int64 {
	runtime.GC()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
