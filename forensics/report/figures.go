package report

import (
	"cmp"
	_ "embed"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tracehop/tracehop/forensics"
)

// worldmapText is Natural Earth 1:110m country outlines, pre-projected by
// internal/mkworldmap (make worldmap). Read-only.
//
//go:embed assets/worldmap.txt
var worldmapText string

// Projection of assets/worldmap.txt (keep in step with mkworldmap).
const (
	mapScale  = 5.0 // units per degree
	mapMaxLat = 84.0
	mapMinLat = -58.0
	mapW      = 360 * mapScale
	mapH      = (mapMaxLat - mapMinLat) * mapScale
)

// figure is a vector drawing both renderers draw: polygons, circles,
// polylines, rectangles and text in a W×H coordinate space, y down.
type figure struct {
	W, H    float64
	Label   string // accessible description
	Polys   []figPoly
	Circles []figCircle
	Lines   []figLine
	Rects   []figRect
	Texts   []figText
	chains  int // hop chains with two positioned hops, drawn or not
}

type pt struct{ X, Y float64 }

type figPoly struct {
	Rings [][]pt
	Title string
	CC    string // ISO 3166-1 alpha-2, may be empty
	Class string // land, or act1..act4 by activity
}

type figCircle struct {
	X, Y, R float64
	Class   string
	Title   string
}

type figLine struct {
	Points []pt
	Class  string
	Title  string
}

type figRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type figText struct {
	X, Y   float64
	Text   string
	Anchor string // start, middle, end
	Class  string
}

type figures struct {
	Map          *figure
	MapPoints    int
	MapDrawn     int // circles drawn (MapPoints beyond maxMapCircles are not)
	MapLines     int // hop chains with a position at two hops or more
	MapCountries int
	Timeline     *figure
	TimelineBars int
}

func project(lat, lon float64) pt {
	lat = math.Max(mapMinLat, math.Min(mapMaxLat, lat))
	return pt{(lon + 180) * mapScale, (mapMaxLat - lat) * mapScale}
}

// parseWorldMap reads the embedded outlines. The format is ours and
// fixed; a bad line is skipped rather than trusted.
func parseWorldMap() []figPoly {
	var out []figPoly
	for line := range strings.Lines(worldmapText) {
		line = strings.TrimRight(line, "\n")
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.SplitN(line, "|", 4)
		if len(parts) != 4 {
			continue
		}
		poly := figPoly{CC: parts[1], Title: parts[2], Class: "land"}
		for ring := range strings.SplitSeq(parts[3], ";") {
			var r []pt
			for xy := range strings.SplitSeq(ring, " ") {
				xs, ys, ok := strings.Cut(xy, ",")
				x, err1 := strconv.Atoi(xs)
				y, err2 := strconv.Atoi(ys)
				if !ok || err1 != nil || err2 != nil {
					continue
				}
				r = append(r, pt{float64(x), float64(y)})
			}
			if len(r) >= 3 {
				poly.Rings = append(poly.Rings, r)
			}
		}
		out = append(out, poly)
	}
	return out
}

func (v *view) figures() (*figures, error) {
	f := &figures{}
	f.Map, f.MapPoints, f.MapCountries = v.mapFigure()
	f.MapDrawn, f.MapLines = len(f.Map.Circles), f.Map.chains
	var err error
	f.Timeline, f.TimelineBars, err = v.timelineFigure()
	return f, err
}

func (v *view) mapFigure() (*figure, int, int) {
	fig := &figure{W: mapW, H: mapH, Label: "World map of geolocated addresses and hop chains", Polys: parseWorldMap()}
	// Countries are shaded by how many addresses the databases place there
	// (log scale, four steps): country-level data has no positions.
	perCC := map[string]int{}
	most := 0
	for _, r := range v.IPs {
		if r.Geo != nil && r.Geo.Country != "" {
			perCC[r.Geo.Country]++
			most = max(most, perCC[r.Geo.Country])
		}
	}
	shaded := 0
	for i := range fig.Polys {
		p := &fig.Polys[i]
		n := perCC[p.CC]
		if n == 0 {
			continue
		}
		shaded++
		step := 1 + int(3*math.Log1p(float64(n))/math.Log1p(float64(most)))
		p.Class = "act" + strconv.Itoa(min(step, 4))
		p.Title += " (" + p.CC + "): " + strconv.Itoa(n) + " address(es)"
	}
	// Hop chains first, so points sit on top.
	seen := map[string]bool{}
	addChain := func(ch forensics.Chain) {
		if seen[ch.ID] {
			return
		}
		seen[ch.ID] = true
		var line figLine
		var names []string
		for _, h := range ch.Hops {
			if h.Geo == nil || h.Geo.Lat == nil || h.Geo.Lon == nil {
				continue
			}
			line.Points = append(line.Points, project(*h.Geo.Lat, *h.Geo.Lon))
			names = append(names, h.IP.String()+" ("+h.Role+")")
		}
		if len(line.Points) >= 2 {
			if fig.chains++; fig.chains > maxMapLines {
				return
			}
			line.Class = "hop"
			line.Title = "chain " + ch.ID + ": " + strings.Join(names, " → ")
			fig.Lines = append(fig.Lines, line)
		}
	}
	for _, ch := range v.Case.Chains {
		addChain(ch)
	}
	for _, cp := range v.Case.Campaigns {
		for _, ch := range cp.Hops {
			addChain(ch)
		}
	}
	n := 0
	for _, r := range v.IPs {
		g := r.Geo
		if g == nil || g.Lat == nil || g.Lon == nil {
			continue
		}
		n++
		p := project(*g.Lat, *g.Lon)
		rad := float64(g.AccuracyKM) / 111.32 * mapScale
		rad = math.Max(6, math.Min(60, rad))
		class := "src"
		switch {
		case containsStr(r.Roles, "relay") || containsStr(r.Roles, "proxy"):
			class = "relay"
		case containsStr(r.Roles, "target"):
			class = "target"
		case len(r.Campaigns) > 0:
			class = "campaign"
		}
		title := r.IP.String()
		if g.Country != "" {
			title += " " + g.Country
		}
		if g.City != "" {
			title += " " + g.City
		}
		if g.AccuracyKM > 0 {
			title += ", accuracy " + strconv.Itoa(int(g.AccuracyKM)) + " km"
		}
		fig.Circles = append(fig.Circles, figCircle{X: p.X, Y: p.Y, R: rad, Class: class, Title: title})
	}
	if len(fig.Circles) > maxMapCircles {
		// Relays and proxies, targets and campaign addresses first, then
		// the others, each in address order (v.IPs is sorted).
		rank := map[string]int{"relay": 0, "target": 1, "campaign": 2}
		slices.SortStableFunc(fig.Circles, func(a, b figCircle) int {
			ra, oka := rank[a.Class]
			rb, okb := rank[b.Class]
			if !oka {
				ra = 3
			}
			if !okb {
				rb = 3
			}
			return ra - rb
		})
		fig.Circles = fig.Circles[:maxMapCircles]
	}
	return fig, n, shaded
}

// The map draws at most maxMapCircles addresses and maxMapLines hop
// chains: beyond a few thousand marks it is unreadable, and each mark is
// bytes of the HTML and the PDF, whose size evidence must not set. The
// caption says how many were drawn.
const (
	maxMapCircles = 2000
	maxMapLines   = 2000
)

func containsStr(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// Timeline layout.
const (
	tlW      = 1800.0
	tlLeft   = 420.0
	tlRight  = 20.0
	tlTop    = 44.0
	tlLane   = 40.0
	tlBottom = 10.0
	maxLanes = 60
)

var tickSteps = []time.Duration{
	time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	91 * 24 * time.Hour, 365 * 24 * time.Hour,
}

func (v *view) timelineFigure() (*figure, int, error) {
	c := v.Case
	// A lane draws its sessions; the last one, the sessions in no
	// campaign (others), reads them from the case as it draws them, in
	// their order (start, then ID), so that they are never held.
	type lane struct {
		label  string
		sess   []*forensics.Session
		others bool
	}
	members := v.sessions.members
	var lanes []lane
	for _, cp := range c.Campaigns {
		l := lane{label: cp.ID + labelText(cp.Label)}
		for _, id := range cp.Sessions {
			if s := members[id]; s != nil {
				l.sess = append(l.sess, s)
			}
		}
		lanes = append(lanes, l)
	}
	if v.sessions.others > 0 {
		lanes = append(lanes, lane{label: "sessions in no campaign", others: true})
	}
	cut := 0
	if len(lanes) > maxLanes {
		cut = len(lanes) - maxLanes
		lanes = lanes[:maxLanes]
	}
	var f0, f1 forensics.Time
	for _, l := range lanes {
		if l.others {
			f0, f1 = widen(f0, f1, v.sessions.otherFirst)
			f0, f1 = widen(f0, f1, v.sessions.otherLast)
			continue
		}
		for _, s := range l.sess {
			f0, f1 = widen(f0, f1, s.Start)
			f0, f1 = widen(f0, f1, s.End)
		}
	}
	t0, t1 := f0.Time, f1.Time
	h := tlTop + tlLane*float64(max(len(lanes), 1)) + tlBottom
	if cut > 0 {
		h += tlLane
	}
	fig := &figure{W: tlW, H: h, Label: "Timeline of sessions per campaign, UTC"}
	if t0.IsZero() {
		fig.Texts = append(fig.Texts, figText{X: tlW / 2, Y: h / 2, Text: "no timed sessions", Anchor: "middle", Class: "axis"})
		return fig, 0, nil
	}
	span := t1.Sub(t0)
	if span < time.Minute {
		t0 = t0.Add(-30 * time.Second)
		t1 = t1.Add(30 * time.Second)
		span = t1.Sub(t0)
	}
	plotW := tlW - tlLeft - tlRight
	x := func(t time.Time) float64 { return tlLeft + plotW*float64(t.Sub(t0))/float64(span) }

	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	layout := "2006-01-02 15:04:05"
	switch {
	case step >= 24*time.Hour:
		layout = "2006-01-02"
	case step >= time.Minute:
		layout = "2006-01-02 15:04"
	}
	for t := t0.UTC().Truncate(step); !t.After(t1); t = t.Add(step) {
		if t.Before(t0) {
			continue
		}
		xx := x(t)
		fig.Lines = append(fig.Lines, figLine{Points: []pt{{xx, tlTop - 6}, {xx, h - tlBottom}}, Class: "grid"})
		// Labels that would run off either end are left out; the grid line stays.
		if lw := 5.5 * float64(len(layout)); xx-lw >= tlLeft-10 && xx+lw <= tlW {
			fig.Texts = append(fig.Texts, figText{X: xx, Y: tlTop - 16, Text: t.Format(layout), Anchor: "middle", Class: "axis"})
		}
	}
	bars := 0
	for i, l := range lanes {
		y := tlTop + tlLane*float64(i)
		fig.Texts = append(fig.Texts, figText{X: tlLeft - 8, Y: y + tlLane*0.65, Text: clip(l.label, 32), Anchor: "end", Class: "lane"})
		// Sessions closer than a bar's width merge into one bar, so a lane
		// holds at most about plotW/2 bars however many sessions it has.
		type span struct {
			x0, x1      float64
			first, last time.Time
			n           int
			label       string
		}
		var spans []span
		visit := func(s *forensics.Session) {
			if s.Start.IsZero() {
				return
			}
			end := s.End.Time
			if end.Before(s.Start.Time) {
				end = s.Start.Time
			}
			x0, x1 := x(s.Start.Time), math.Max(x(end), x(s.Start.Time)+2)
			if n := len(spans); n > 0 && x0 <= spans[n-1].x1+1 {
				sp := &spans[n-1]
				sp.x1 = math.Max(sp.x1, x1)
				if end.After(sp.last) {
					sp.last = end
				}
				sp.n++
				return
			}
			spans = append(spans, span{x0: x0, x1: x1, first: s.Start.Time, last: end, n: 1, label: s.ID + " " + s.SrcIP.String()})
		}
		if l.others {
			if err := v.eachOther(visit); err != nil {
				return nil, 0, err
			}
		} else {
			sorted := slices.Clone(l.sess)
			slices.SortFunc(sorted, compareSessionPtrs)
			for _, s := range sorted {
				visit(s)
			}
		}
		for _, sp := range spans {
			bars++
			title := sp.label
			if sp.n > 1 {
				title = strconv.Itoa(sp.n) + " sessions"
			}
			fig.Rects = append(fig.Rects, figRect{X: sp.x0, Y: y + 4, W: sp.x1 - sp.x0, H: tlLane - 8, Class: "bar",
				Title: title + " " + secondUTC(forensics.NewTime(sp.first)) + " – " + secondUTC(forensics.NewTime(sp.last))})
		}
	}
	if cut > 0 {
		fig.Texts = append(fig.Texts, figText{X: tlLeft, Y: h - tlBottom - 6, Text: strconv.Itoa(cut) + " more campaigns not drawn", Anchor: "start", Class: "axis"})
	}
	return fig, bars, nil
}

func compareSessionPtrs(a, b *forensics.Session) int {
	return cmp.Or(a.Start.Compare(b.Start.Time), strings.Compare(a.ID, b.ID))
}

// eachOther calls fn with the sessions in no campaign in (start, ID)
// order: as the case gives them when they come in that order (a spooled
// case's always do), else sorted in memory.
func (v *view) eachOther(fn func(*forensics.Session)) error {
	members := v.sessions.members
	if v.sessions.othersSorted {
		return v.Case.EachSession(func(s *forensics.Session) error {
			if _, ok := members[s.ID]; !ok {
				fn(s)
			}
			return nil
		})
	}
	var others []*forensics.Session
	err := v.Case.EachSession(func(s *forensics.Session) error {
		if _, ok := members[s.ID]; !ok {
			cp := *s
			others = append(others, &cp)
		}
		return nil
	})
	slices.SortFunc(others, compareSessionPtrs)
	for _, s := range others {
		fn(s)
	}
	return err
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// num formats a coordinate with one decimal, the fixed form of every
// number in the drawings.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}
