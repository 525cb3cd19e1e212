package campaign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/analyze"
	"github.com/tracehop/tracehop/forensics/campaign"
	"github.com/tracehop/tracehop/forensics/session"
	"github.com/tracehop/tracehop/forensics/trace"
)

// truth is the shape of testdata/truth.json written by testdata/gen.
type truth struct {
	Campaign struct {
		IPs        []string `json:"ips"`
		Credential string   `json:"credential"`
		UserAgent  string   `json:"user_agent"`
	} `json:"campaign"`
	Crawler    struct{ IPs []string } `json:"crawler"`
	Customers  struct{ IPs []string } `json:"customers"`
	Travellers struct{ IPs []string } `json:"travellers"`
}

// TestDemoCampaign is the acceptance test of issue 6: on the demo case the
// hidden campaign is recovered from the combined access logs alone and
// from the API gateway's JSON log, with precision and recall of its IP set
// of at least 0.95, no ordinary customer in any attack campaign, the
// crawler kept apart, and the reasons an analyst reads out.
func TestDemoCampaign(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	raw, err := os.ReadFile(filepath.Join(root, "truth.json"))
	if err != nil {
		t.Skipf("demo truth not generated: %v", err)
	}
	var tr truth
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	e, err := enrich.New(enrich.Options{Paths: []string{filepath.Join(root, "mmdb")}, Home: "KR"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	demo := filepath.Join(root, "demo")
	tests := []struct {
		name    string
		inputs  []string
		reasons []string
	}{
		{"combined log alone", []string{filepath.Join(demo, "access.log"), filepath.Join(demo, "access.log.1.gz")},
			[]string{"work hand-over: a sequential read of /api/v1/customers/{n}", `rare user agent "` + tr.Campaign.UserAgent + `"`}},
		{"json log with credentials", []string{filepath.Join(demo, "api.jsonl")},
			[]string{"shared credential " + tr.Campaign.Credential, `rare user agent "` + tr.Campaign.UserAgent + `"`}},
		{"whole demo directory", []string{demo}, []string{"shared credential " + tr.Campaign.Credential}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := analyze.DefaultOptions()
			o.Inputs = tc.inputs
			o.Enricher = e
			o.Home = "KR"
			o.Campaign.Home = "KR"
			c, err := analyze.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			var best *forensics.Campaign
			bestHit := 0
			for i := range c.Campaigns {
				if h := overlap(c.Campaigns[i].IPs, tr.Campaign.IPs); h > bestHit {
					best, bestHit = &c.Campaigns[i], h
				}
			}
			if best == nil {
				t.Fatalf("no campaign holds a campaign IP (%d campaigns of %d sessions)", len(c.Campaigns), len(c.Sessions))
			}
			truthIPs := uniq(tr.Campaign.IPs)
			precision := float64(bestHit) / float64(len(best.IPs))
			recall := float64(bestHit) / float64(len(truthIPs))
			t.Logf("campaign %s: %d sessions, %d IPs, precision %.3f recall %.3f, score %.3f %v",
				best.ID, len(best.Sessions), len(best.IPs), precision, recall, best.Score, best.ScoreComponents)
			if precision < 0.95 || recall < 0.95 {
				t.Errorf("precision %.3f recall %.3f, want both >= 0.95", precision, recall)
			}
			if best.Label != campaign.LabelAttack {
				t.Errorf("label %q, want attack", best.Label)
			}
			var reasons []string
			for _, l := range best.Links {
				reasons = append(reasons, l.Reason)
			}
			for _, want := range tc.reasons {
				if !slices.ContainsFunc(reasons, func(r string) bool { return strings.HasPrefix(r, want) }) {
					t.Errorf("no reason starting %q in %q", want, reasons)
				}
			}
			ordinary := append(uniq(tr.Customers.IPs), tr.Travellers.IPs...)
			for _, cp := range c.Campaigns {
				if cp.Label != campaign.LabelAttack {
					continue
				}
				if n := overlap(cp.IPs, ordinary); n > 0 {
					t.Errorf("attack campaign %s holds %d ordinary customer IPs", cp.ID, n)
				}
				if n := overlap(cp.IPs, tr.Crawler.IPs); n > 0 {
					t.Errorf("attack campaign %s holds %d crawler IPs", cp.ID, n)
				}
			}
			crawlerFound := 0
			for _, cp := range c.Campaigns {
				if overlap(cp.IPs, tr.Crawler.IPs) > 0 {
					crawlerFound++
					if cp.Label != campaign.LabelCrawler {
						t.Errorf("crawler campaign %s labelled %q", cp.ID, cp.Label)
					}
				}
			}
			// Shuffled events give the same campaign bytes.
			want, _ := json.Marshal(c.Campaigns)
			ev := slices.Clone(c.Events)
			r := rand.New(rand.NewPCG(uint64(len(ev)), 9))
			r.Shuffle(len(ev), func(i, j int) { ev[i], ev[j] = ev[j], ev[i] })
			fl := slices.Clone(c.Flows)
			r.Shuffle(len(fl), func(i, j int) { fl[i], fl[j] = fl[j], fl[i] })
			cs := campaign.Build(session.Build(ev, fl, o.Session), o.Campaign)
			trace.Attach(cs, c.Chains)
			if got, _ := json.Marshal(cs); !bytes.Equal(got, want) {
				t.Errorf("shuffled input changed the campaign bytes (%d vs %d)", len(got), len(want))
			}
			crawlerSeen := slices.ContainsFunc(c.Sessions, func(s forensics.Session) bool {
				return slices.Contains(tr.Crawler.IPs, s.SrcIP.String())
			})
			if crawlerSeen && crawlerFound != 1 {
				t.Errorf("the crawler formed %d campaigns, want one of its own", crawlerFound)
			}
		})
	}
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func overlap(got, want []string) int {
	w := uniq(want)
	n := 0
	for _, ip := range uniq(got) {
		if _, ok := slices.BinarySearch(w, ip); ok {
			n++
		}
	}
	return n
}
