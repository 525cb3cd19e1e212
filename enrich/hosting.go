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
	asns map[uint32]string // ASN -> category
	// set is an open-addressing table of the ASNs (0 = empty slot,
	// never a listed ASN), sized to at most a quarter full: every lookup
	// asks, and a small flat table stays in the CPU cache where a map's
	// groups and control words do not.
	set    []uint32
	shift  uint32
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
	hl.shift = 32 - 4
	for 1<<(32-hl.shift) < 4*len(hl.asns) {
		hl.shift--
	}
	hl.set = make([]uint32, 1<<(32-hl.shift))
	for asn := range hl.asns {
		i := hl.slot(asn)
		for hl.set[i] != 0 {
			i = (i + 1) & uint32(len(hl.set)-1)
		}
		hl.set[i] = asn
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

func (hl *hostingList) slot(asn uint32) uint32 { return asn * 0x9e3779b1 >> hl.shift }

// has reports whether asn (not 0) is on the list.
func (hl *hostingList) has(asn uint32) bool {
	if asn == 0 {
		return false
	}
	mask := uint32(len(hl.set) - 1)
	for i := hl.slot(asn); ; i = (i + 1) & mask {
		switch hl.set[i] {
		case asn:
			return true
		case 0:
			return false
		}
	}
}
