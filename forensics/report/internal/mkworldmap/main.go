// Command mkworldmap converts the Natural Earth country outlines of the
// world-atlas npm package (TopoJSON, ISC licence; Natural Earth data is in
// the public domain) into the compact text form the report embeds
// (forensics/report/assets/worldmap.txt). Run it through `make worldmap`.
//
// The output is projected once, here, so the HTML and PDF renderers draw
// the same map: equirectangular, Scale units per degree, latitudes
// MaxLat..MinLat (Antarctica dropped), integer coordinates, consecutive
// duplicates removed. One country per line: "id|cc|name|ring;ring;..."
// where id is the ISO 3166-1 numeric code, cc the alpha-2 code (from
// Debian's iso-codes, -iso; empty when unknown) and a ring "x,y x,y ...".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// Keep in step with forensics/report/worldmap.go.
const (
	scale  = 5.0
	maxLat = 84.0
	minLat = -58.0
	width  = int(360 * scale)
)

type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]float64 `json:"arcs"`
	Objects map[string]struct {
		Geometries []struct {
			Type       string            `json:"type"`
			ID         json.RawMessage   `json:"id"`
			Properties map[string]string `json:"properties"`
			Arcs       json.RawMessage   `json:"arcs"`
		} `json:"geometries"`
	} `json:"objects"`
}

func main() {
	in := flag.String("in", "", "countries-110m.json from the world-atlas package")
	out := flag.String("out", "worldmap.txt", "output file")
	iso := flag.String("iso", "/usr/share/iso-codes/json/iso_3166-1.json", "ISO 3166-1 table of Debian's iso-codes package")
	flag.Parse()
	if err := run(*in, *out, *iso); err != nil {
		fmt.Fprintln(os.Stderr, "mkworldmap:", err)
		os.Exit(1)
	}
}

func run(in, out, iso string) error {
	alpha2 := map[string]string{}
	if iso != "" {
		data, err := os.ReadFile(iso)
		if err != nil {
			return err
		}
		var tab map[string][]struct {
			Alpha2  string `json:"alpha_2"`
			Numeric string `json:"numeric"`
		}
		if err := json.Unmarshal(data, &tab); err != nil {
			return fmt.Errorf("parse %s: %w", iso, err)
		}
		for _, c := range tab["3166-1"] {
			alpha2[c.Numeric] = c.Alpha2
		}
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var t topology
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}
	// Decode the delta-encoded, quantized arcs into lon/lat.
	arcs := make([][][2]float64, len(t.Arcs))
	for i, a := range t.Arcs {
		var x, y float64
		pts := make([][2]float64, len(a))
		for j, p := range a {
			x += p[0]
			y += p[1]
			pts[j] = [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]}
		}
		arcs[i] = pts
	}
	ring := func(idx []int) [][2]int {
		var pts [][2]float64
		for k, i := range idx {
			var a [][2]float64
			if i >= 0 {
				a = arcs[i]
			} else {
				a = slices.Clone(arcs[^i])
				slices.Reverse(a)
			}
			if k > 0 && len(a) > 0 {
				a = a[1:]
			}
			pts = append(pts, a...)
		}
		// Rings that cross the antimeridian jump by ~360° between two
		// points: unwrap them so they are continuous; the caller draws a
		// copy shifted by one world width and the drawing clips both.
		for i := 1; i < len(pts); i++ {
			for pts[i][0]-pts[i-1][0] > 180 {
				pts[i][0] -= 360
			}
			for pts[i][0]-pts[i-1][0] < -180 {
				pts[i][0] += 360
			}
		}
		var outPts [][2]int
		for _, p := range pts {
			lat := math.Max(minLat, math.Min(maxLat, p[1]))
			q := [2]int{int(math.Round((p[0] + 180) * scale)), int(math.Round((maxLat - lat) * scale))}
			if n := len(outPts); n > 0 && outPts[n-1] == q {
				continue
			}
			outPts = append(outPts, q)
		}
		return outPts
	}
	type country struct{ id, cc, name, rings string }
	var cs []country
	for _, g := range t.Objects["countries"].Geometries {
		var id string
		if err := json.Unmarshal(g.ID, &id); err != nil {
			id = strings.Trim(string(g.ID), `"`)
		}
		if id == "010" { // Antarctica: off the map, nothing to attribute there
			continue
		}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return err
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return err
			}
		default:
			continue
		}
		var rings []string
		for _, poly := range polys {
			for _, r := range poly {
				pts := ring(r)
				if len(pts) < 3 {
					continue
				}
				lo, hi := pts[0][0], pts[0][0]
				for _, p := range pts {
					lo, hi = min(lo, p[0]), max(hi, p[0])
				}
				shifts := []int{0}
				if lo < 0 {
					shifts = append(shifts, width)
				}
				if hi > width {
					shifts = append(shifts, -width)
				}
				for _, dx := range shifts {
					parts := make([]string, len(pts))
					for i, p := range pts {
						parts[i] = fmt.Sprintf("%d,%d", p[0]+dx, p[1])
					}
					rings = append(rings, strings.Join(parts, " "))
				}
			}
		}
		if len(rings) == 0 {
			continue
		}
		name := strings.NewReplacer("|", " ", "\n", " ").Replace(g.Properties["name"])
		cc := alpha2[id]
		if name == "Kosovo" && cc == "" {
			cc = "XK" // user-assigned code used by GeoIP databases
		}
		cs = append(cs, country{id, cc, name, strings.Join(rings, ";")})
	}
	slices.SortFunc(cs, func(a, b country) int { return strings.Compare(a.id+a.name, b.id+b.name) })
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# Natural Earth 1:110m countries via world-atlas (ISC); Natural Earth is public domain. Alpha-2 codes: Debian iso-codes.\n")
	fmt.Fprintf(w, "# equirectangular, %g units/degree, lat %g..%g; generated by forensics/report/internal/mkworldmap\n", scale, maxLat, minLat)
	for _, c := range cs {
		fmt.Fprintf(w, "%s|%s|%s|%s\n", c.id, c.cc, c.name, c.rings)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
