// Package benchlog writes the logs the log benchmarks read: `make
// bench-data` (through testdata/gen) and the in-process command
// benchmarks of cmd/tracehop, so that both measure the same lines.
package benchlog

import (
	"bufio"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"time"
)

var benchUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
	"curl/8.5.0",
	"python-requests/2.31.0",
	`Mozilla/5.0 (compatible; \"scanner\"; +http://example.com/bot)`,
	"okhttp/4.12.0",
}

var benchPaths = []string{"/", "/login", "/api/v1/items/", "/api/v1/orders/", "/static/app.js", "/static/site.css", "/search?q=", "/wp-login.php", "/.env"}

func benchClients(r *rand.Rand, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		if i%10 == 9 {
			var b [16]byte
			b[0], b[1] = 0x24, 0x00|byte(r.IntN(16))
			for j := 2; j < 16; j++ {
				b[j] = byte(r.IntN(256))
			}
			out[i] = netip.AddrFrom16(b)
			continue
		}
		a := byte(1 + r.IntN(222))
		if a == 10 || a == 127 || a == 100 || a == 172 || a == 192 {
			a = 81
		}
		out[i] = netip.AddrFrom4([4]byte{a, byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
	}
	return out
}

// Write writes lines records to path: the combined log (Apache/nginx
// combined format), or with ecs the ECS JSON lines. Clients come from a
// pool of 50,000 public addresses (IPv4 and some IPv6) with Zipf-like
// reuse, as a busy site sees; user agents include escaped quotes, and a
// share of requests are scanner garbage, so the parser's slow paths are
// measured too. Streamed and deterministic (fixed seed, no wall clock):
// the first n lines are the same whatever lines is.
func Write(path string, lines int, ecs bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(20250624, 5))
	clients := benchClients(r, 50000)
	zipf := rand.NewZipf(r, 1.1, 8, uint64(len(clients)-1))
	t := time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)
	var b []byte
	for i := range lines {
		t = t.Add(time.Duration(r.IntN(40)) * time.Millisecond)
		ip := clients[zipf.Uint64()]
		status := []int{200, 200, 200, 200, 304, 404, 301, 500, 401}[r.IntN(9)]
		size := r.IntN(50000)
		ua := benchUAs[r.IntN(len(benchUAs))]
		path := benchPaths[r.IntN(len(benchPaths))]
		if path[len(path)-1] == '/' || path[len(path)-1] == '=' {
			path += strconv.Itoa(r.IntN(100000))
		}
		b = b[:0]
		if ecs {
			b = append(b, `{"@timestamp":"`...)
			b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
			b = append(b, `","source":{"ip":"`...)
			b = ip.AppendTo(b)
			b = append(b, `","port":`...)
			b = strconv.AppendInt(b, int64(1024+r.IntN(60000)), 10)
			b = append(b, `},"url":{"path":"`...)
			b = append(b, path...)
			b = append(b, `"},"http":{"request":{"method":"GET"},"response":{"status_code":`...)
			b = strconv.AppendInt(b, int64(status), 10)
			b = append(b, `,"body":{"bytes":`...)
			b = strconv.AppendInt(b, int64(size), 10)
			b = append(b, `}}},"user_agent":{"original":"`...)
			b = append(b, ua...)
			b = append(b, `"},"user":{"id":"u-`...)
			b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
			b = append(b, `"},"event":{"dataset":"api.access"}}`...)
		} else {
			b = ip.AppendTo(b)
			b = append(b, " - - ["...)
			b = t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
			b = append(b, `] "`...)
			if i%997 == 0 {
				b = append(b, `\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03`...)
			} else {
				b = append(b, "GET "...)
				b = append(b, path...)
				b = append(b, " HTTP/1.1"...)
			}
			b = append(b, `" `...)
			b = strconv.AppendInt(b, int64(status), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(size), 10)
			b = append(b, ` "https://shop.example/" "`...)
			b = append(b, ua...)
			b = append(b, '"')
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
