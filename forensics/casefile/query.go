package casefile

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tracehop/tracehop/forensics"
)

// Record kinds Query searches.
const (
	KindEvents   = "events"
	KindFlows    = "flows"
	KindSessions = "sessions"
)

// Filter selects records; every set field must match (AND). What "match"
// means per kind:
//
//   - IP, CIDR: events by the attributed address (client IP after the
//     proxy chain, else the socket peer) or the socket peer; flows by
//     either endpoint; sessions by their source.
//   - ASN, Country: the enrichment of those same addresses (sessions fall
//     back to the ASN indicator).
//   - From, To: the record's time span overlaps [From, To) (an event's
//     span is its instant).
//   - Credential: events' credential; sessions' credential or token key
//     ID; flows never carry one, so nothing matches.
//   - Campaign: sessions in the campaign; events (by attributed address)
//     and flows (by source) from those sessions' sources during those
//     sessions. (Sessions cite only their first few records as evidence,
//     so membership is by address and time span.)
//   - UserAgent: substring of the User-Agent (flows: of the HTTP request).
type Filter struct {
	IP         netip.Addr
	CIDR       netip.Prefix
	ASN        uint32
	Country    string
	From, To   time.Time
	Credential string
	Campaign   string
	UserAgent  string
	// Limit stops after that many records (0: no limit).
	Limit int
}

// Query calls fn with the stored JSON of every record of kind (KindEvents,
// KindFlows or KindSessions) matching flt, in the order the case holds them
// (inputs in the order they were added, records in ingest order; sessions
// as correlation ordered them). The bytes are only valid during the call.
func (f *File) Query(ctx context.Context, kind string, flt Filter, fn func(js []byte) error) error {
	switch kind {
	case KindEvents, KindFlows, KindSessions:
	default:
		return fmt.Errorf("query: unknown record kind %q (want events, flows or sessions)", kind)
	}
	m := newMatcher(kind, flt)
	if flt.Campaign != "" && kind != KindSessions {
		var err error
		if m.windows, err = f.campaignWindows(ctx, flt.Campaign); err != nil {
			return err
		}
		if len(m.windows) == 0 {
			return nil
		}
	}
	q := `SELECT id, codec, keys, json FROM blocks WHERE kind = ?`
	args := []any{kind}
	if !flt.From.IsZero() {
		q += ` AND t_max >= ?`
		args = append(args, unixNano(forensics.NewTime(flt.From)))
	}
	if !flt.To.IsZero() {
		q += ` AND t_min < ?`
		args = append(args, unixNano(forensics.NewTime(flt.To)))
	}
	q += ` ORDER BY id`
	rows, err := f.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query %s in %s: %w", kind, f.path, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var codec string
		var keys, raw []byte
		if err := rows.Scan(&id, &codec, &keys, &raw); err != nil {
			return fmt.Errorf("query %s in %s: %w", kind, f.path, err)
		}
		js, err := f.blockJSON(codec, raw)
		if err != nil {
			return fmt.Errorf("query %s in %s: block %d: %w", kind, f.path, id, err)
		}
		if keys, err = f.blockKeys(codec, keys); err != nil {
			return fmt.Errorf("query %s in %s: block %d: %w", kind, f.path, id, err)
		}
		kr := keyReader{b: keys}
		var k recKey
		off := 0
		for kr.more() {
			if !kr.next(&k) || off+k.jsonLen > len(js) {
				return fmt.Errorf("query %s in %s: block %d: %w", kind, f.path, id, errBadKeys)
			}
			line := js[off : off+k.jsonLen]
			off += k.jsonLen + 1
			if !m.match(&k) {
				continue
			}
			if err := fn(line); err != nil {
				return err
			}
			n++
			if flt.Limit > 0 && n >= flt.Limit {
				return nil
			}
		}
	}
	return rows.Err()
}

// matcher is Filter compiled for one record kind.
type matcher struct {
	kind     string
	flt      Filter
	ip       netip.Addr
	cidr     netip.Prefix
	cc       string
	from, to int64
	windows  map[netip.Addr][][2]int64 // campaign sessions' [start, end] by source
}

func newMatcher(kind string, flt Filter) *matcher {
	m := &matcher{kind: kind, flt: flt, ip: canon(flt.IP), cc: strings.ToUpper(flt.Country)}
	if flt.CIDR.IsValid() {
		m.cidr = flt.CIDR.Masked()
		if a := m.cidr.Addr(); a.Is4In6() && m.cidr.Bits() >= 96 {
			m.cidr = netip.PrefixFrom(a.Unmap(), m.cidr.Bits()-96)
		}
	}
	if !flt.From.IsZero() {
		m.from = unixNano(forensics.NewTime(flt.From))
	}
	if !flt.To.IsZero() {
		m.to = unixNano(forensics.NewTime(flt.To))
	}
	return m
}

func (m *matcher) match(k *recKey) bool {
	f := &m.flt
	if m.ip.IsValid() && k.ipA != m.ip && k.ipB != m.ip {
		return false
	}
	if m.cidr.IsValid() && !m.cidr.Contains(k.ipA) && !m.cidr.Contains(k.ipB) {
		return false
	}
	if f.ASN != 0 && k.asnA != f.ASN && k.asnB != f.ASN {
		return false
	}
	if m.cc != "" && k.ccA != m.cc && k.ccB != m.cc {
		return false
	}
	if !f.From.IsZero() && k.tEnd < m.from {
		return false
	}
	if !f.To.IsZero() && k.tStart >= m.to {
		return false
	}
	if f.Credential != "" && k.credA != f.Credential && k.credB != f.Credential {
		return false
	}
	if f.UserAgent != "" && !strings.Contains(k.ua, f.UserAgent) {
		return false
	}
	if f.Campaign != "" {
		if m.kind == KindSessions {
			return k.campaign == f.Campaign
		}
		// The windows are sorted and disjoint (campaignWindows): only the
		// last one starting by the record's end can reach its start.
		ws := m.windows[k.ipA]
		i := sort.Search(len(ws), func(i int) bool { return ws[i][0] > k.tEnd })
		return i > 0 && ws[i-1][1] >= k.tStart
	}
	return true
}

// campaignWindows collects, per source address, the time spans of a
// campaign's sessions, sorted and merged where they overlap (one address
// may have many sessions in a campaign: a record is then matched by a
// binary search, not a scan of them all).
func (f *File) campaignWindows(ctx context.Context, campaign string) (map[netip.Addr][][2]int64, error) {
	out := map[netip.Addr][][2]int64{}
	err := f.Query(ctx, KindSessions, Filter{Campaign: campaign}, func(js []byte) error {
		var s struct {
			SrcIP netip.Addr     `json:"src_ip"`
			Start forensics.Time `json:"start"`
			End   forensics.Time `json:"end"`
		}
		if err := json.Unmarshal(js, &s); err != nil {
			return fmt.Errorf("query campaign %s in %s: session: %w", campaign, f.path, err)
		}
		a := canon(s.SrcIP)
		out[a] = append(out[a], [2]int64{unixNano(s.Start), unixNano(s.End)})
		return nil
	})
	for a, ws := range out {
		out[a] = mergeWindows(ws)
	}
	return out, err
}

// mergeWindows sorts closed spans by start and merges those that overlap:
// the same union, disjoint and in order.
func mergeWindows(ws [][2]int64) [][2]int64 {
	slices.SortFunc(ws, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	out := ws[:0]
	for _, w := range ws {
		if w[1] < w[0] {
			w[1] = w[0] // never from a session (its end is its last record), but keep the order
		}
		if n := len(out); n > 0 && w[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], w[1])
			continue
		}
		out = append(out, w)
	}
	return out
}
