package logs

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tracehop/tracehop/forensics"
)

// readBoth reads data as Read does (a line copied at a time, one event
// emitted at a time) and as `tracehop events` does (Options.ShareLines,
// ReadBatches with recycled batches), and fails on any difference in the
// events or the stats.
func readBoth(t *testing.T, data []byte, format string, short bool) {
	t.Helper()
	opts := DefaultOptions()
	opts.MaxLine, opts.MaxField, opts.Year = 256, 64, 2025
	var want [][]byte
	wst, werr := Read(context.Background(), bytes.NewReader(data), "f", format, opts, func(e forensics.Event) {
		b, _ := forensics.AppendEventJSON(nil, &e)
		want = append(want, b)
	}, nil)

	opts.ShareLines = true
	var r io.Reader = bytes.NewReader(data)
	if short {
		r = iotest.HalfReader(iotest.OneByteReader(r))
		r = io.MultiReader(r) // not a *bytes.Reader
	}
	var got [][]byte
	spare := make([]forensics.Event, 0, 3)
	gst, gerr := ReadBatches(context.Background(), r, "f", format, opts, make([]forensics.Event, 0, 3), func(full []forensics.Event) []forensics.Event {
		for i := range full {
			b, _ := forensics.AppendEventJSON(nil, &full[i])
			got = append(got, b)
		}
		// Hand back the batch before last, as the command's ring does.
		next := spare
		spare = full[:0]
		return next
	})
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("errors differ: Read %v, ReadBatches %v", werr, gerr)
	}
	if !reflect.DeepEqual(wst, gst) {
		t.Fatalf("stats differ:\nRead        %+v\nReadBatches %+v", wst, gst)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, Read gave %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("event %d differs:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

var shareFormats = map[string]string{
	"apache-vhost.log": FormatVhostCombined, "ecs.jsonl": FormatJSONL, "syslog.log": FormatSSHD,
	"iis.log": FormatW3C, "alb.log": FormatALB, "cloudfront.log": FormatCloudFront,
}

func TestShareLinesSameEvents(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := map[string][]byte{
		"empty":              nil,
		"no final newline":   []byte(`1.2.3.4 - - [24/Jun/2025:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"`),
		"crlf and blanks":    []byte("1.2.3.4 - - [24/Jun/2025:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\r\n\r\n   \n1.2.3.5 - - [24/Jun/2025:00:00:01 +0000] \"GET /a HTTP/1.1\" 404 -\n"),
		"line at the cap":    []byte("1.2.3.4 - - [24/Jun/2025:00:00:00 +0000] \"GET /" + strings.Repeat("a", 256-52) + " HTTP/1.1\" 200 1\n2.2.2.2 - - [24/Jun/2025:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"),
		"long lines":         []byte("1.2.3.4 - - [24/Jun/2025:00:00:00 +0000] \"GET /" + long + " HTTP/1.1\" 200 1 \"-\" \"" + long + "\"\n" + long + long + long + "\n3.3.3.3 - - [24/Jun/2025:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"),
		"long last line":     []byte("1.2.3.4 - - [24/Jun/2025:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n" + long + long),
		"long line exact":    []byte(strings.Repeat("y", 256) + "\n" + strings.Repeat("z", 257) + "\n" + strings.Repeat("w", 255) + "\n"),
		"garbage and binary": []byte("\x00\xff\n[[[\n] [ ]\n\"\"\"\n 1.2.3.4 [\n"),
	}
	var many bytes.Buffer
	for i := range 3000 {
		many.WriteString(`10.0.` + itoa(i%256) + `.1 - u` + itoa(i) + ` [24/Jun/2025:00:00:0` + itoa(i%10) + ` +0000] "GET /p/` + itoa(i) + ` HTTP/1.1" 200 ` + itoa(i) + " \"-\" \"ua\"\n")
	}
	cases["many"] = many.Bytes()
	for name, data := range cases {
		for _, short := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				readBoth(t, data, FormatCombined, short)
			})
		}
	}
	for file, format := range shareFormats {
		data, err := os.ReadFile(filepath.Join("testdata", "samples", file))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(file, func(t *testing.T) {
			readBoth(t, data, format, false)
			readBoth(t, data, format, true)
		})
	}
}

// FuzzShareLines holds the block reader and in-place batches of
// `tracehop events` to Read's line-by-line results on any input.
func FuzzShareLines(f *testing.F) {
	seeds(f, "apache-vhost.log", "ecs.jsonl", "syslog.log", "iis.log")
	f.Add([]byte(strings.Repeat("a", 600) + "\n" + strings.Repeat("b", 255) + "\nc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []string{FormatCombined, FormatJSONL, FormatSSHD, FormatW3C} {
			readBoth(t, data, format, len(data)%2 == 1)
		}
	})
}
