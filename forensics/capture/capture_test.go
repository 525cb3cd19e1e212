package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tracehop/tracehop/forensics"
)

// synthTCP builds an Ethernet/IPv4/TCP frame.
func synthTCP(src, dst [4]byte, sport, dport uint16, flags uint8, seq uint32, payload []byte) []byte {
	ip := make([]byte, 20+20+len(payload))
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	ip[8], ip[9] = 64, 6
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12] = 5 << 4
	tcp[13] = flags
	copy(tcp[20:], payload)
	eth := make([]byte, 14, 14+len(ip))
	binary.BigEndian.PutUint16(eth[12:], etherIPv4)
	return append(eth, ip...)
}

type synthPacket struct {
	ts   time.Time
	data []byte
}

func writePcap(t testing.TB, pkts []synthPacket) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(t testing.TB, data []byte, opts Options) ([]forensics.Flow, Stats, error) {
	t.Helper()
	var flows []forensics.Flow
	st, err := Read(context.Background(), bytes.NewReader(data), "synth.pcap", opts, func(f forensics.Flow) { flows = append(flows, f) })
	SortFlows(flows)
	return flows, st, err
}

var (
	cli = [4]byte{192, 0, 2, 10}
	srv = [4]byte{198, 51, 100, 1}
	t0  = time.Date(2025, 6, 24, 0, 3, 35, 123456789, time.UTC)
)

func handshake(sport uint16, at time.Time, payload []byte) []synthPacket {
	return []synthPacket{
		{at, synthTCP(cli, srv, sport, 443, tcpSYN, 1000, nil)},
		{at.Add(time.Millisecond), synthTCP(srv, cli, 443, sport, tcpSYN|tcpACK, 5000, nil)},
		{at.Add(2 * time.Millisecond), synthTCP(cli, srv, sport, 443, tcpACK, 1001, nil)},
		{at.Add(3 * time.Millisecond), synthTCP(cli, srv, sport, 443, tcpACK, 1001, payload)},
		{at.Add(4 * time.Millisecond), synthTCP(srv, cli, 443, sport, tcpFIN|tcpACK, 5001, nil)},
	}
}

func TestReadFlowBasics(t *testing.T) {
	hello := helloSpec{version: 0x0303, ciphers: []uint16{0x1301}, exts: []uint16{0}, sni: "x.example"}.records(1 << 14)
	pkts := handshake(40000, t0, hello)
	// The server's SYN-ACK captured first for a second connection: the
	// client is still src.
	pkts = append(pkts, synthPacket{t0.Add(time.Second), synthTCP(srv, cli, 443, 40001, tcpSYN|tcpACK, 9, nil)})
	flows, st, err := readAll(t, writePcap(t, pkts), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 6 || len(flows) != 2 {
		t.Fatalf("packets %d flows %d", st.Packets, len(flows))
	}
	f := flows[0]
	if f.SrcIP.String() != "192.0.2.10" || f.SrcPort != 40000 || f.DstPort != 443 || f.PktsOut != 3 || f.PktsIn != 2 {
		t.Errorf("direction/counters wrong: %+v", f)
	}
	if f.State != "handshake,fin" {
		t.Errorf("state = %q", f.State)
	}
	if f.TLS == nil || f.TLS.SNI != "x.example" {
		t.Errorf("tls = %+v", f.TLS)
	}
	if f.Evidence.Packet != 1 || f.Evidence.Offset != 24 || f.Evidence.File != "synth.pcap" {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	if f.Start.String() != "2025-06-24T00:03:35.123456000Z" { // pcap: microseconds
		t.Errorf("start = %s", f.Start)
	}
	g := flows[1]
	if g.SrcIP.String() != "192.0.2.10" || g.SrcPort != 40001 || g.State != "synack" {
		t.Errorf("syn-ack-only flow: %+v", g)
	}
}

// A capture cut mid-record ends with the flows read so far and a note.
func TestReadTruncated(t *testing.T) {
	data := writePcap(t, handshake(40000, t0, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")))
	cut := data[:len(data)-20]
	flows, st, err := readAll(t, cut, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1 || st.Packets != 4 {
		t.Fatalf("flows %d packets %d", len(flows), st.Packets)
	}
	if !strings.HasPrefix(st.Truncated, "truncated at byte ") || !strings.HasSuffix(st.Truncated, "/ packet 5") || st.Malformed != 1 {
		t.Errorf("truncated = %q malformed %d", st.Truncated, st.Malformed)
	}
	if flows[0].HTTP == nil || flows[0].HTTP.Host != "a" {
		t.Errorf("http = %+v", flows[0].HTTP)
	}
}

func TestReadNotCapture(t *testing.T) {
	for name, in := range map[string][]byte{"empty": nil, "text": []byte("GET / HTTP/1.1\r\n"), "short": {0xd4}} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(t, in, DefaultOptions())
			if !errors.Is(err, ErrNotCapture) {
				t.Errorf("err = %v, want ErrNotCapture", err)
			}
		})
	}
}

// A scan fills the table: flows beyond the cap are evicted (emitted early,
// least recently seen first), counted, and reported as a cap hit.
func TestFlowCapEvicts(t *testing.T) {
	var pkts []synthPacket
	for i := range 1000 {
		pkts = append(pkts, synthPacket{t0.Add(time.Duration(i) * time.Microsecond), synthTCP(cli, srv, uint16(10000+i), 80, tcpSYN, 1, nil)})
	}
	opts := DefaultOptions()
	opts.MaxFlows = 100
	flows, st, err := readAll(t, writePcap(t, pkts), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1000 || st.Evictions != 900 {
		t.Errorf("flows %d evictions %d", len(flows), st.Evictions)
	}
	if len(st.Caps) != 1 || st.Caps[0].Count != 900 {
		t.Errorf("caps = %+v", st.Caps)
	}
}

func TestIdleAndActiveTimeouts(t *testing.T) {
	pkts := []synthPacket{
		{t0, synthTCP(cli, srv, 1, 80, tcpACK, 1, []byte("x"))},
		{t0.Add(10 * time.Minute), synthTCP(cli, srv, 1, 80, tcpACK, 2, []byte("y"))}, // idle > 5m: a new flow
	}
	flows, st, _ := readAll(t, writePcap(t, pkts), DefaultOptions())
	if len(flows) != 2 || st.Expired != 1 || flows[0].State != "midstream" {
		t.Errorf("flows %d expired %d state %q", len(flows), st.Expired, flows[0].State)
	}
	opts := DefaultOptions()
	opts.ActiveTimeout = time.Second
	pkts = nil
	for i := range 5 {
		pkts = append(pkts, synthPacket{t0.Add(time.Duration(i) * 600 * time.Millisecond), synthTCP(cli, srv, 1, 80, tcpACK, uint32(i), nil)})
	}
	flows, _, _ = readAll(t, writePcap(t, pkts), opts)
	if len(flows) != 3 { // 0-0.6 s, 1.2-1.8 s, 2.4 s
		t.Errorf("active timeout: %d flows, want 3", len(flows))
	}
}

// Output is identical across runs.
func TestReadDeterministic(t *testing.T) {
	dir := corpusDir(t)
	p := filepath.Join(dir, "pcap", "zeek", "wikipedia.pcap")
	if _, err := os.Stat(p); err != nil {
		t.Skip(err)
	}
	a, _, _ := readCorpusFile(t, p, DefaultOptions())
	b, _, _ := readCorpusFile(t, p, DefaultOptions())
	if len(a) != len(b) {
		t.Fatal("different flow counts")
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].CommunityID != b[i].CommunityID {
			t.Fatalf("flow %d differs", i)
		}
	}
}

// pcapBytes writes a one-packet pcap with the given byte order and
// resolution by hand (pcapgo writes only little-endian).
func pcapBytes(order binary.AppendByteOrder, nano bool, ts time.Time, frame []byte) []byte {
	magic := uint32(0xa1b2c3d4)
	frac := uint32(ts.Nanosecond() / 1000)
	if nano {
		magic, frac = 0xa1b23c4d, uint32(ts.Nanosecond())
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, 1)
	b = order.AppendUint32(b, uint32(ts.Unix()))
	b = order.AppendUint32(b, frac)
	b = order.AppendUint32(b, uint32(len(frame)))
	b = order.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

func TestReadPcapByteOrdersAndResolutions(t *testing.T) {
	frame := synthTCP(cli, srv, 1, 2, tcpSYN, 0, nil)
	tests := []struct {
		name  string
		order binary.AppendByteOrder
		nano  bool
		want  string
	}{
		{"little endian µs", binary.LittleEndian, false, "2025-06-24T00:03:35.123456000Z"},
		{"big endian µs", binary.BigEndian, false, "2025-06-24T00:03:35.123456000Z"},
		{"little endian ns", binary.LittleEndian, true, "2025-06-24T00:03:35.123456789Z"},
		{"big endian ns", binary.BigEndian, true, "2025-06-24T00:03:35.123456789Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flows, st, err := readAll(t, pcapBytes(tt.order, tt.nano, t0, frame), DefaultOptions())
			if err != nil || len(flows) != 1 || st.Format != "pcap" {
				t.Fatalf("err %v flows %d", err, len(flows))
			}
			if got := flows[0].Start.String(); got != tt.want {
				t.Errorf("start = %s, want %s", got, tt.want)
			}
		})
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// An input that fails mid-way (I/O, a decompression cap) is an error with
// its position, not a malformed capture.
func TestReadInputError(t *testing.T) {
	data := writePcap(t, handshake(1, t0, nil))
	boom := errors.New("disk on fire")
	_, err := Read(context.Background(), &failingReader{r: bytes.NewReader(data[:len(data)-10]), err: boom}, "x.pcap", DefaultOptions(), func(forensics.Flow) {})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x.pcap at byte") {
		t.Errorf("err = %v", err)
	}
}
