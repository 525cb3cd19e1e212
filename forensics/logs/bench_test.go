package logs

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// benchLines makes n deterministic lines of a format, the same shapes as
// testdata/gen -bench-logs writes for `make bench-data`.
func benchLines(format string, n int) []byte {
	var b bytes.Buffer
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"curl/8.5.0", "python-requests/2.31.0", `Mozilla/5.0 (compatible; \"bot\"; +http://example.com/bot)`,
	}
	t0 := time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ip := fmt.Sprintf("%d.%d.%d.%d", 1+i%223, (i/7)%256, (i/13)%256, 1+i%254)
		ts := t0.Add(time.Duration(i) * 137 * time.Millisecond)
		switch format {
		case FormatCombined:
			fmt.Fprintf(&b, "%s - - [%s] \"GET /api/v1/items/%d?page=%d HTTP/1.1\" %d %d \"https://shop.example/list\" \"%s\"\n",
				ip, ts.Format("02/Jan/2006:15:04:05 -0700"), i%100000, i%7, []int{200, 200, 404, 301}[i%4], 200+i%9000, uas[i%len(uas)])
		case FormatJSONL:
			fmt.Fprintf(&b, `{"@timestamp":"%s","source":{"ip":"%s","port":%d},"url":{"path":"/api/v1/items/%d"},"http":{"request":{"method":"GET"},"response":{"status_code":%d,"body":{"bytes":%d}}},"user_agent":{"original":"%s"},"user":{"id":"u-%d"},"event":{"dataset":"api.access"}}`+"\n",
				ts.Format(time.RFC3339Nano), ip, 1024+i%60000, i%100000, []int{200, 200, 404, 301}[i%4], 200+i%9000, uas[i%len(uas)], i%5000)
		case FormatZeekJSON:
			fmt.Fprintf(&b, `{"ts":%d.%06d,"uid":"C%d","id.orig_h":"%s","id.orig_p":%d,"id.resp_h":"192.0.2.1","id.resp_p":443,"proto":"tcp","service":"ssl","duration":%d.5,"orig_bytes":%d,"resp_bytes":%d,"conn_state":"SF","missed_bytes":0,"history":"ShADadFf","orig_pkts":%d,"orig_ip_bytes":%d,"resp_pkts":%d,"resp_ip_bytes":%d}`+"\n",
				ts.Unix(), ts.Nanosecond()/1000, i, ip, 1024+i%60000, i%30, 200+i%9000, 900+i%5000, 3+i%20, 400+i%9000, 2+i%20, 1100+i%5000)
		case FormatSuricataEVE:
			// Flow, TLS, HTTP and DNS records interleaved, as Suricata writes them.
			head := fmt.Sprintf(`{"timestamp":"%s","flow_id":%d,"in_iface":"eth0","event_type":"%%s","src_ip":"%s","src_port":%d,"dest_ip":"192.0.2.1","dest_port":443,"proto":"TCP"`,
				ts.Format("2006-01-02T15:04:05.000000-0700"), 1e6+i, ip, 1024+i%60000)
			switch i % 4 {
			case 0:
				fmt.Fprintf(&b, head+`,"app_proto":"tls","flow":{"pkts_toserver":%d,"pkts_toclient":%d,"bytes_toserver":%d,"bytes_toclient":%d,"start":"%s","end":"%s","age":1,"state":"closed","reason":"timeout","alerted":false},"community_id":"1:abc="}`+"\n",
					"flow", 3+i%20, 2+i%20, 400+i%9000, 1100+i%5000, ts.Format("2006-01-02T15:04:05.000000-0700"), ts.Format("2006-01-02T15:04:05.000000-0700"))
			case 1:
				fmt.Fprintf(&b, head+`,"tls":{"subject":"CN=shop.example","version":"TLS 1.2","sni":"shop.example","ja3":{"hash":"e6573e91e6eb777c0933c5b8f97f10cd","string":"771,1-2,3,4,5"},"ja4":"t12d1009h2_a8b1b5c62c2f_8f9d2ac4e7a4"}}`+"\n", "tls")
			case 2:
				fmt.Fprintf(&b, head+`,"tx_id":0,"http":{"hostname":"shop.example","url":"/api/v1/items/%d","http_user_agent":"%s","http_method":"GET","status":200,"length":%d}}`+"\n", "http", i%100000, uas[i%len(uas)], 200+i%9000)
			case 3:
				fmt.Fprintf(&b, head+`,"dns":{"type":"query","id":%d,"rrname":"host%d.example","rrtype":"A","tx_id":0}}`+"\n", "dns", i%65536, i%500)
			}
		case FormatSSHD:
			fmt.Fprintf(&b, "%s bastion sshd[%d]: Failed password for invalid user u%d from %s port %d ssh2\n", ts.Format("Jan _2 15:04:05"), 1000+i%9000, i%300, ip, 1024+i%60000)
		}
	}
	return b.Bytes()
}

func benchRead(b *testing.B, format string) {
	data := benchLines(format, 20000)
	opts := DefaultOptions()
	opts.Year = 2025
	var n int64
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		st, err := Read(context.Background(), bytes.NewReader(data), "bench", format, opts, func(forensics.Event) { n++ }, func(forensics.Flow) { n++ })
		if err != nil || st.Malformed != 0 {
			b.Fatalf("%v %+v", err, st)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(n)/c.Seconds(), "lines/cpu-s")
	}
}

func BenchmarkReadCombined(b *testing.B) { benchRead(b, FormatCombined) }
func BenchmarkReadECS(b *testing.B)      { benchRead(b, FormatJSONL) }
func BenchmarkReadSSHD(b *testing.B)     { benchRead(b, FormatSSHD) }
func BenchmarkReadZeekJSON(b *testing.B) { benchRead(b, FormatZeekJSON) }
func BenchmarkReadEVE(b *testing.B)      { benchRead(b, FormatSuricataEVE) }

// benchReadBatches is benchRead the way `tracehop events` reads: blocks
// shared by the lines (Options.ShareLines) and events built in place in
// recycled batches (ReadBatches). It justifies both against benchRead.
func benchReadBatches(b *testing.B, format string) {
	data := benchLines(format, 20000)
	opts := DefaultOptions()
	opts.Year, opts.ShareLines = 2025, true
	var n int64
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	batch := make([]forensics.Event, 0, 128)
	for b.Loop() {
		st, err := ReadBatches(context.Background(), bytes.NewReader(data), "bench", format, opts, batch, func(full []forensics.Event) []forensics.Event {
			n += int64(len(full))
			return full[:0]
		})
		if err != nil || st.Malformed != 0 {
			b.Fatalf("%v %+v", err, st)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(n)/c.Seconds(), "lines/cpu-s")
	}
}

func BenchmarkReadBatchesCombined(b *testing.B) { benchReadBatches(b, FormatCombined) }
func BenchmarkReadBatchesECS(b *testing.B)      { benchReadBatches(b, FormatJSONL) }

// BenchmarkWalkJSON is the JSON lines parser's walk alone over ECS lines:
// "noop" visits every value with nothing done, "fields" with the parser's
// field resolution, and "shape" is what the parser does: lines read
// through the previous line's layout (jsonShape), walked in full only
// when it changes.
func BenchmarkWalkJSON(b *testing.B) {
	data := benchLines(FormatJSONL, 20000)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	fm, err := newFieldMap(nil)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, line func(p *jsonParser, l string) error) {
		p := &jsonParser{fm: &fm}
		p.visit = p.leaf
		b.SetBytes(int64(len(data)))
		n := 0
		for b.Loop() {
			for _, l := range lines {
				if err := line(p, l); err != nil {
					b.Fatal(err)
				}
			}
			n += len(lines)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
	}
	b.Run("noop", func(b *testing.B) {
		run(b, func(p *jsonParser, l string) (err error) {
			p.path, err = walkJSON(l, p.path, noVisit, nil)
			return err
		})
	})
	b.Run("fields", func(b *testing.B) {
		run(b, func(p *jsonParser, l string) (err error) {
			p.reset()
			p.slots = p.slots[:0]
			p.path, err = walkJSON(l, p.path, p.visit, nil)
			return err
		})
	})
	b.Run("shape", func(b *testing.B) {
		run(b, func(p *jsonParser, l string) error { return p.scan(l) })
	})
}
