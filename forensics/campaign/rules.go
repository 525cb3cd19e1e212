package campaign

import (
	"math"
	"strconv"

	"github.com/tracehop/tracehop/forensics"
)

// contrib is one rule that fired between two sessions.
type contrib struct {
	rule  string
	attr  string
	value string
	vid   uint32 // interned value for value rules, 0 for pair rules
	w     float64
	infra bool
	class uint8
}

const eps = 1e-9

// pairWeight scores two sessions on every rule. It returns the summed
// weight (infrastructure capped at InfraCap) and whether the pair merges:
// the sum reaches the threshold and at least one non-infrastructure link
// fired. When out is not nil the contributions are appended to it.
func (g *grouping) pairWeight(a, b int32, out *[]contrib) (float64, bool) {
	ra, rb := &g.recs[a], &g.recs[b]
	if ra.flags&flagCrawler != rb.flags&flagCrawler {
		return 0, false
	}
	var sum, infra float64
	nonInfra := false
	add := func(c contrib) {
		if c.w <= 0 {
			return
		}
		if c.infra {
			infra += c.w
		} else {
			sum += c.w
			nonInfra = true
		}
		if out != nil {
			*out = append(*out, c)
		}
	}
	if ra.cred != 0 && ra.cred == rb.cred {
		add(g.valueContrib(RuleCredential, ra.cred, false))
	}
	if ra.kid != 0 && ra.kid == rb.kid {
		add(g.valueContrib(RuleTokenKeyID, ra.kid, false))
	}
	if g.handoverOK(ra, rb) || g.handoverOK(rb, ra) {
		first := ra
		if rb.start < ra.start {
			first = rb
		}
		tmpl := g.b.seqs[first.seq].tmpl
		add(contrib{rule: RuleHandover, attr: "seq_template", value: g.b.vals[tmpl].s,
			w: g.opts.StrongWeight, class: 3, vid: tmpl})
	}
	if ra.fp != 0 && ra.fp == rb.fp {
		if ra.flags&flagCrawler != 0 {
			c := g.valueContrib(RuleCrawler, ra.fp, false)
			c.w, c.class = g.opts.StrongWeight, 3
			add(c)
		} else {
			add(g.valueContrib(RuleFingerprint, ra.fp, false))
		}
	}
	near := g.near(ra, rb)
	if near && ra.prefix != 0 && ra.prefix == rb.prefix {
		add(g.valueContrib(RulePrefix, ra.prefix, true))
	}
	if near && ra.asv != 0 && ra.asv == rb.asv {
		add(g.valueContrib(RuleASN, ra.asv, true))
	}
	if g.opts.WeakWeight > 0 && int(ra.hourEvents) >= g.opts.ProfileMinEvents && int(rb.hourEvents) >= g.opts.ProfileMinEvents {
		if c := cosine(g.b.profiles[ra.prof], g.b.profiles[rb.prof]); c >= g.opts.ProfileCosine-eps {
			add(contrib{rule: RuleHourProfile, attr: "hour_of_week", value: hourLabel(int(ra.peak)), w: g.opts.WeakWeight, class: 1})
		}
	}
	if g.opts.WeakWeight > 0 && float64(ra.beaconScore) >= g.opts.BeaconMinScore-eps && float64(rb.beaconScore) >= g.opts.BeaconMinScore-eps {
		pa, pb := float64(ra.beaconPeriod), float64(rb.beaconPeriod)
		if pa > 0 && pb > 0 && math.Abs(pa-pb) <= g.opts.BeaconTolerance*max(pa, pb)+eps {
			add(contrib{rule: RuleBeacon, attr: "beacon_period_s", value: strconv.FormatFloat(math.Round(pa), 'f', 0, 64), w: g.opts.WeakWeight, class: 1})
		}
	}
	total := sum + min(infra, g.opts.InfraCap)
	return total, nonInfra && total >= g.opts.Threshold-eps
}

func (g *grouping) valueContrib(rule string, v uint32, infra bool) contrib {
	return contrib{rule: rule, attr: attrNames[g.b.vals[v].attr], value: g.b.vals[v].s, vid: v,
		w: float64(g.weight[v]), infra: infra, class: g.class[v]}
}

// near reports whether two sessions lie within the infrastructure window.
func (g *grouping) near(a, b *rec) bool {
	d := max(b.start-a.end, a.start-b.end, 0)
	return d <= int64(g.opts.InfraWindow)
}

// cosine is the cosine similarity of two sparse hour-of-week profiles
// (both sorted by hour).
func cosine(a, b []forensics.HourCount) float64 {
	var dot, na, nb float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].Hour < b[j].Hour:
			i++
		case a[i].Hour > b[j].Hour:
			j++
		default:
			dot += float64(a[i].Count) * float64(b[j].Count)
			i++
			j++
		}
	}
	for _, h := range a {
		na += float64(h.Count) * float64(h.Count)
	}
	for _, h := range b {
		nb += float64(h.Count) * float64(h.Count)
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

var weekdays = [...]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func hourLabel(h int) string {
	if h < 0 || h >= 168 {
		return ""
	}
	hh := h % 24
	s := strconv.Itoa(hh)
	if hh < 10 {
		s = "0" + s
	}
	return "peak " + weekdays[h/24] + " " + s + ":00 UTC"
}
