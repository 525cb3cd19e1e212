package enrich

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// hostingList is the embedded list of hosting, cloud and CDN ASNs
// (data/hosting-asns.txt; its header cites the source).
type hostingList struct {
	asns   map[uint32]string // ASN -> category
	info   DatabaseInfo
	fields []string
}

// HostingListName names the embedded hosting-ASN list in sources.
const HostingListName = "hosting-asns.txt"

func parseHostingList(b []byte) (*hostingList, error) {
	hl := &hostingList{asns: map[uint32]string{}, fields: []string{"anonymous"}}
	build := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# build:"); ok {
			build = strings.TrimSpace(rest)
		}
		if line == "" || line[0] == '#' {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 2 {
			return nil, fmt.Errorf("hosting list line %d: want ASN<tab>category<tab>organisation", n)
		}
		asn, err := strconv.ParseUint(cols[0], 10, 32)
		if err != nil || asn == 0 {
			return nil, fmt.Errorf("hosting list line %d: bad ASN %q", n, cols[0])
		}
		hl.asns[uint32(asn)] = cols[1]
	}
	t, err := time.Parse(time.DateOnly, build)
	if err != nil {
		return nil, fmt.Errorf("hosting list: build date: %w", err)
	}
	sum := sha256.Sum256(b)
	hl.info = DatabaseInfo{
		Name:        HostingListName,
		Type:        "tracehop-hosting-asn-list",
		Build:       t.UTC().Format(time.RFC3339),
		SHA256:      hex.EncodeToString(sum[:]),
		Embedded:    true,
		Attribution: "hosting/cloud/CDN ASN list compiled by the tracehop project from operators' AS registrations (RIR whois, PeeringDB)",
		Origin:      "tracehop enrich/data/hosting-asns.txt",
		Licence:     "same as tracehop",
	}
	return hl, nil
}

func (hl *hostingList) has(asn uint32) bool {
	_, ok := hl.asns[asn]
	return ok
}
