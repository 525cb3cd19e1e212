package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var screenshot = flag.String("screenshot", "", "write a PNG of the rendered report.html to this path (for the README)")

// cdp is a minimal Chrome DevTools Protocol client over --remote-debugging-pipe
// (NUL-terminated JSON on fds 3 and 4): no websocket, no dependency.
type cdp struct {
	w      *os.File
	mu     sync.Mutex
	nextID int
	wait   map[int]chan json.RawMessage
	events chan cdpEvent
}

type cdpEvent struct {
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
}

func startChromium(t *testing.T) (*cdp, func()) {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed (Debian: apt-get install chromium)")
	}
	toChrome, chromeIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	chromeOut, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fds 3 and 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skip("cannot start chromium:", err)
	}
	toChrome.Close()
	fromChrome.Close()
	c := &cdp{w: chromeIn, wait: map[int]chan json.RawMessage{}, events: make(chan cdpEvent, 4096)}
	go func() {
		r := bufio.NewReader(chromeOut)
		for {
			msg, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			msg = msg[:len(msg)-1]
			var m struct {
				ID     int             `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  json.RawMessage `json:"error"`
				cdpEvent
			}
			if json.Unmarshal(msg, &m) != nil {
				continue
			}
			if m.ID != 0 {
				c.mu.Lock()
				ch := c.wait[m.ID]
				delete(c.wait, m.ID)
				c.mu.Unlock()
				if ch != nil {
					if len(m.Error) > 0 {
						ch <- json.RawMessage(`{"__error":` + string(m.Error) + `}`)
					} else {
						ch <- m.Result
					}
				}
				continue
			}
			select {
			case c.events <- m.cdpEvent:
			default:
			}
		}
	}()
	return c, func() {
		chromeIn.Close()
		cancel()
		cmd.Wait()
		chromeOut.Close()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("chromium stderr (tail): %s", tail(stderr.String(), 2000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (c *cdp) call(t *testing.T, session, method string, params any) json.RawMessage {
	t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan json.RawMessage, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		t.Fatalf("cdp %s: %v", method, err)
	}
	select {
	case res := <-ch:
		if bytes.HasPrefix(res, []byte(`{"__error":`)) {
			t.Fatalf("cdp %s: %s", method, res)
		}
		return res
	case <-time.After(30 * time.Second):
		t.Fatalf("cdp %s: timeout", method)
	}
	return nil
}

// pageReport is what the browser saw while loading one report.
type pageReport struct {
	Requests []string // every URL requested other than the report itself
	Errors   []string // console errors, exceptions, CSP violations, log errors
	Dialogs  []string // alert/confirm/prompt opened (a script ran)
	DOM      map[string]any
}

// loadInChromium opens file in headless Chromium with scripts enabled and
// returns what happened, plus a PNG screenshot of the page from the top of
// element fromID to the bottom of element toID.
func loadInChromium(t *testing.T, file, fromID, toID string) (*pageReport, []byte) {
	c, stop := startChromium(t)
	defer stop()
	var target struct {
		TargetID string `json:"targetId"`
	}
	json.Unmarshal(c.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(c.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &att)
	s := att.SessionID
	for _, m := range []string{"Network.enable", "Runtime.enable", "Log.enable", "Page.enable"} {
		c.call(t, s, m, nil)
	}
	c.call(t, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": false})
	abs, _ := filepath.Abs(file)
	u := (&url.URL{Scheme: "file", Path: abs}).String()
	c.call(t, s, "Page.navigate", map[string]any{"url": u})

	rep := &pageReport{}
	deadline := time.After(30 * time.Second)
	loaded := false
	for !loaded {
		select {
		case ev := <-c.events:
			rep.note(ev, u, c, t)
			if ev.Method == "Page.loadEventFired" {
				loaded = true
			}
		case <-deadline:
			t.Fatal("report.html did not finish loading in 30 s")
		}
	}
	// Let late timers, handlers and lazy loads fire, then drain events.
	time.Sleep(700 * time.Millisecond)
	for drained := false; !drained; {
		select {
		case ev := <-c.events:
			rep.note(ev, u, c, t)
		default:
			drained = true
		}
	}
	res := c.call(t, s, "Runtime.evaluate", map[string]any{"returnByValue": true, "expression": `(function(){
		var all=document.querySelectorAll('*'), handlers=0, jsurls=0;
		for (var i=0;i<all.length;i++){ for (var j=0;j<all[i].attributes.length;j++){ var a=all[i].attributes[j];
			if (/^on/i.test(a.name)) handlers++;
			if (/^\s*javascript:/i.test(a.value)) jsurls++; } }
		return {
			scripts: document.scripts.length,
			imgs: document.images.length,
			iframes: document.querySelectorAll('iframe,object,embed,link,base,form,meta[http-equiv=refresh]').length,
			svgs: document.querySelectorAll('svg').length,
			mapCountries: document.querySelectorAll('#worldmap path').length,
			shaded: document.querySelectorAll('#worldmap path:not(.land)').length,
			mapPoints: document.querySelectorAll('#worldmap circle').length,
			mapHops: document.querySelectorAll('#worldmap polyline').length,
			timelineBars: document.querySelectorAll('#timeline rect').length,
			sections: document.querySelectorAll('section').length,
			ctl: document.querySelectorAll('span.ctl').length,
			handlers: handlers, jsurls: jsurls,
			injected: document.querySelectorAll('main svg svg, td script, td img, td svg, p script, p img').length,
			text: document.body.innerText
		};})()`})
	var ev struct {
		Result struct {
			Value map[string]any `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(res, &ev); err != nil {
		t.Fatal(err)
	}
	rep.DOM = ev.Result.Value
	// The screenshot for the README: the map and the timeline.
	var box struct {
		Result struct {
			Value map[string]float64 `json:"value"`
		} `json:"result"`
	}
	json.Unmarshal(c.call(t, s, "Runtime.evaluate", map[string]any{"returnByValue": true, "expression": `(function(){
		var a=document.getElementById(` + strconv.Quote(fromID) + `).getBoundingClientRect(), b=document.getElementById(` + strconv.Quote(toID) + `).getBoundingClientRect();
		return {x:a.left+window.scrollX, y:a.top+window.scrollY, w:a.width, h:Math.min(b.bottom-a.top, 4000)};})()`}), &box)
	clip := box.Result.Value
	shot := c.call(t, s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": clip["x"], "y": clip["y"], "width": clip["w"], "height": clip["h"], "scale": 1}})
	var sc struct {
		Data string `json:"data"`
	}
	json.Unmarshal(shot, &sc)
	png, _ := base64.StdEncoding.DecodeString(sc.Data)
	return rep, png
}

func (r *pageReport) note(ev cdpEvent, self string, c *cdp, t *testing.T) {
	switch ev.Method {
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		json.Unmarshal(ev.Params, &p)
		if p.Request.URL != self {
			r.Requests = append(r.Requests, p.Request.URL)
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string            `json:"type"`
			Args []json.RawMessage `json:"args"`
		}
		json.Unmarshal(ev.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			r.Errors = append(r.Errors, fmt.Sprintf("console.%s %s", p.Type, p.Args))
		}
	case "Runtime.exceptionThrown":
		r.Errors = append(r.Errors, "exception "+string(ev.Params))
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Text, Source string
			} `json:"entry"`
		}
		json.Unmarshal(ev.Params, &p)
		if p.Entry.Level == "error" || p.Entry.Level == "warning" {
			r.Errors = append(r.Errors, p.Entry.Source+": "+p.Entry.Text)
		}
	case "Page.javascriptDialogOpening":
		r.Dialogs = append(r.Dialogs, string(ev.Params))
	}
}

func num0(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

func TestHTMLInChromium(t *testing.T) {
	tests := []struct {
		name    string
		hostile bool
	}{
		{"normal", false},
		{"hostile", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := writeTestBundle(t, testCase(tc.hostile), Options{Formats: []string{"html"}, Organisation: "Korean National Police Agency"})
			from, to := "map", "timeline"
			if tc.hostile {
				from, to = "campaigns", "campaigns"
			}
			rep, png := loadInChromium(t, filepath.Join(dir, FileReportHTML), from, to)
			if len(rep.Requests) != 0 {
				t.Errorf("network requests: %q", rep.Requests)
			}
			if len(rep.Errors) != 0 {
				t.Errorf("console errors: %q", rep.Errors)
			}
			if len(rep.Dialogs) != 0 {
				t.Errorf("a script ran: dialogs %q", rep.Dialogs)
			}
			d := rep.DOM
			if num0(d, "mapCountries") < 150 || num0(d, "mapPoints") != 3 || num0(d, "mapHops") != 1 {
				t.Errorf("map: %d countries, %d points, %d hop lines", num0(d, "mapCountries"), num0(d, "mapPoints"), num0(d, "mapHops"))
			}
			if num0(d, "shaded") != 2 { // US and NL
				t.Errorf("shaded countries %d, want 2", num0(d, "shaded"))
			}
			if num0(d, "timelineBars") != 2 {
				t.Errorf("timeline bars %d, want 2", num0(d, "timelineBars"))
			}
			if num0(d, "sections") < 14 {
				t.Errorf("sections %d", num0(d, "sections"))
			}
			// Only our one script, two SVGs, no element or attribute from data.
			if num0(d, "scripts") != 1 || num0(d, "imgs") != 0 || num0(d, "iframes") != 0 || num0(d, "svgs") != 2 ||
				num0(d, "handlers") != 0 || num0(d, "jsurls") != 0 || num0(d, "injected") != 0 {
				t.Errorf("markup from data: %v", map[string]int{"scripts": num0(d, "scripts"), "imgs": num0(d, "imgs"), "iframes": num0(d, "iframes"),
					"svgs": num0(d, "svgs"), "handlers": num0(d, "handlers"), "jsurls": num0(d, "jsurls"), "injected": num0(d, "injected")})
			}
			text, _ := d["text"].(string)
			if tc.hostile {
				// The payloads are shown as text, controls as markers.
				for _, want := range []string{`<script>alert(1)</script>`, `<svg onload=alert(5)>`, "⟨U+202E⟩", "⟨ESC⟩", `=HYPERLINK(`} {
					if !strings.Contains(text, want) {
						t.Errorf("page text lacks %q", want)
					}
				}
				if strings.ContainsAny(text, "\u202e\u2066\x1b") {
					t.Errorf("raw bidi or escape character reached the page text")
				}
				if num0(d, "ctl") == 0 {
					t.Errorf("no visible control markers")
				}
			} else {
				for _, want := range []string{"Evidence received", "Limitations", "67%", "KNPA-2025-0142", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "김지우"} {
					if !strings.Contains(text, want) {
						t.Errorf("page text lacks %q", want)
					}
				}
			}
			if *screenshot != "" {
				name := *screenshot
				if tc.hostile {
					name = strings.TrimSuffix(name, ".png") + "-hostile.png"
				}
				if err := os.WriteFile(name, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if len(png) < 10000 {
				t.Errorf("screenshot only %d bytes", len(png))
			}
		})
	}
}
