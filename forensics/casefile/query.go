package casefile

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
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
//   - Campaign: sessions in the campaign; events and flows cited as
//     evidence by those sessions.
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
// KindFlows or KindSessions) matching flt, in time order (ties in insertion
// order). The bytes are only valid during the call.
func (f *File) Query(ctx context.Context, kind string, flt Filter, fn func(js []byte) error) error {
	var table string
	switch kind {
	case KindEvents, KindFlows, KindSessions:
		table = kind
	default:
		return fmt.Errorf("query: unknown record kind %q (want events, flows or sessions)", kind)
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	twoIPs := kind != KindSessions
	if flt.IP.IsValid() {
		ip := ipCol(flt.IP.WithZone(""))
		if twoIPs {
			add("(ip_a = ? OR ip_b = ?)", ip, ip)
		} else {
			add("ip_a = ?", ip)
		}
	}
	if flt.CIDR.IsValid() {
		lo, hi := prefixRange(flt.CIDR)
		if twoIPs {
			add("(ip_a BETWEEN ? AND ? OR ip_b BETWEEN ? AND ?)", lo, hi, lo, hi)
		} else {
			add("ip_a BETWEEN ? AND ?", lo, hi)
		}
	}
	if flt.ASN != 0 {
		if kind == KindFlows {
			add("(asn_a = ? OR asn_b = ?)", int64(flt.ASN), int64(flt.ASN))
		} else {
			add("asn_a = ?", int64(flt.ASN))
		}
	}
	if flt.Country != "" {
		cc := strings.ToUpper(flt.Country)
		if kind == KindFlows {
			add("(cc_a = ? OR cc_b = ?)", cc, cc)
		} else {
			add("cc_a = ?", cc)
		}
	}
	end := "t_end"
	if kind == KindEvents {
		end = "t_start"
	}
	if !flt.From.IsZero() {
		add(end+" >= ?", unixNano(forensics.NewTime(flt.From)))
	}
	if !flt.To.IsZero() {
		add("t_start < ?", unixNano(forensics.NewTime(flt.To)))
	}
	if flt.Credential != "" {
		switch kind {
		case KindFlows:
			add("0")
		case KindEvents:
			add("cred_a = ?", flt.Credential)
		default:
			add("(cred_a = ? OR cred_b = ?)", flt.Credential, flt.Credential)
		}
	}
	if flt.UserAgent != "" {
		add("instr(user_agent, ?) > 0", flt.UserAgent)
	}
	var members map[refKey]struct{}
	if flt.Campaign != "" {
		if kind == KindSessions {
			add("campaign = ?", flt.Campaign)
		} else {
			var err error
			if members, err = f.campaignRefs(ctx, flt.Campaign); err != nil {
				return err
			}
			if len(members) == 0 {
				return nil
			}
		}
	}
	cols := "json"
	if members != nil {
		cols = "json, (SELECT sha256 FROM evidence WHERE evidence.id = evidence_id), pos, off"
	}
	q := "SELECT " + cols + " FROM " + table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t_start, id"
	rows, err := f.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query %s in %s: %w", kind, f.path, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var js []byte
		if members != nil {
			var k refKey
			if err := rows.Scan(&js, &k.sha, &k.pos, &k.off); err != nil {
				return fmt.Errorf("query %s in %s: %w", kind, f.path, err)
			}
			if _, ok := members[k]; !ok {
				continue
			}
		} else if err := rows.Scan(&js); err != nil {
			return fmt.Errorf("query %s in %s: %w", kind, f.path, err)
		}
		if err := fn(js); err != nil {
			return err
		}
		n++
		if flt.Limit > 0 && n >= flt.Limit {
			break
		}
	}
	return rows.Err()
}

// refKey identifies a record by the evidence it came from.
type refKey struct {
	sha      string
	pos, off int64
}

// campaignRefs collects the evidence references of a campaign's sessions.
func (f *File) campaignRefs(ctx context.Context, campaign string) (map[refKey]struct{}, error) {
	rows, err := f.db.QueryContext(ctx, `SELECT json FROM sessions WHERE campaign = ?`, campaign)
	if err != nil {
		return nil, fmt.Errorf("query campaign %s in %s: %w", campaign, f.path, err)
	}
	defer rows.Close()
	out := map[refKey]struct{}{}
	for rows.Next() {
		var js []byte
		if err := rows.Scan(&js); err != nil {
			return nil, err
		}
		var s struct {
			Evidence []forensics.EvidenceRef `json:"evidence"`
		}
		if err := json.Unmarshal(js, &s); err != nil {
			return nil, fmt.Errorf("query campaign %s in %s: session: %w", campaign, f.path, err)
		}
		for _, r := range s.Evidence {
			out[refKey{sha: r.SHA256, pos: refPos(r), off: r.Offset}] = struct{}{}
		}
	}
	return out, rows.Err()
}
