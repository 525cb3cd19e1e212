package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// pool is a real address range with the facts our test databases give it.
// Ranges are chosen from providers that really hold them, so the embedded
// default data agrees in country and ASN for the public ones.
type pool struct {
	Prefix      string
	Country     string
	CountryName string
	City        string
	Subdiv      string
	Lat, Lon    float64
	AccuracyKM  uint16
	ASN         uint32
	Org         string
	Hosting     bool
}

var (
	krPools = []pool{
		{"211.234.0.0/16", "KR", "South Korea", "Seoul", "11", 37.5665, 126.978, 20, 9644, "SK Telecom", false},
		{"175.223.0.0/16", "KR", "South Korea", "Seoul", "11", 37.5665, 126.978, 50, 4766, "Korea Telecom", false},
		{"121.134.0.0/16", "KR", "South Korea", "Suwon", "41", 37.2636, 127.0286, 10, 4766, "Korea Telecom", false},
		{"118.235.0.0/16", "KR", "South Korea", "Busan", "26", 35.1796, 129.0756, 50, 9644, "SK Telecom", false},
		{"220.117.0.0/16", "KR", "South Korea", "Incheon", "28", 37.4563, 126.7052, 10, 4766, "Korea Telecom", false},
		{"1.224.0.0/16", "KR", "South Korea", "Daejeon", "30", 36.3504, 127.3845, 20, 9318, "SK Broadband", false},
	}
	krV6 = pool{"2001:e60::/32", "KR", "South Korea", "Seoul", "11", 37.5665, 126.978, 100, 4766, "Korea Telecom", false}

	// Overseas hosting and VPS ranges the actor rents from.
	hostingPools = []pool{
		{"159.89.0.0/16", "DE", "Germany", "Frankfurt am Main", "HE", 50.1155, 8.6842, 1000, 14061, "DigitalOcean, LLC", true},
		{"167.99.0.0/16", "US", "United States", "North Bergen", "NJ", 40.8043, -74.0121, 1000, 14061, "DigitalOcean, LLC", true},
		{"178.62.0.0/16", "NL", "Netherlands", "Amsterdam", "NH", 52.3759, 4.8975, 100, 14061, "DigitalOcean, LLC", true},
		{"45.32.0.0/16", "JP", "Japan", "Tokyo", "13", 35.6893, 139.6899, 500, 20473, "The Constant Company, LLC", true},
		{"45.76.0.0/16", "SG", "Singapore", "Singapore", "", 1.2897, 103.8501, 50, 20473, "The Constant Company, LLC", true},
		{"51.38.0.0/16", "FR", "France", "Gravelines", "HDF", 50.9865, 2.128, 100, 16276, "OVH SAS", true},
		{"95.216.0.0/16", "FI", "Finland", "Helsinki", "18", 60.1719, 24.9347, 100, 24940, "Hetzner Online GmbH", true},
		{"172.104.0.0/16", "JP", "Japan", "Tokyo", "13", 35.6893, 139.6899, 500, 63949, "Akamai Connected Cloud", true},
		{"47.88.0.0/16", "US", "United States", "San Mateo", "CA", 37.5625, -122.3229, 1000, 45102, "Alibaba (US) Technology Co., Ltd.", true},
		{"47.74.0.0/16", "SG", "Singapore", "Singapore", "", 1.2897, 103.8501, 50, 45102, "Alibaba (US) Technology Co., Ltd.", true},
	}
	crawlerPool = pool{"66.249.64.0/19", "US", "United States", "Mountain View", "CA", 37.4056, -122.0775, 1000, 15169, "Google LLC", false}
	travelPools = []pool{
		{"126.0.0.0/8", "JP", "Japan", "Osaka", "27", 34.6937, 135.5023, 20, 17676, "SoftBank Corp.", false},
		{"73.0.0.0/8", "US", "United States", "Seattle", "WA", 47.6062, -122.3321, 20, 7922, "Comcast Cable Communications, LLC", false},
	}
)

// host picks a deterministic host address inside p (avoiding .0 and .255).
func (p pool) host(r *rand.Rand) netip.Addr {
	pfx := netip.MustParsePrefix(p.Prefix)
	b := pfx.Addr().AsSlice()
	bits := pfx.Bits()
	for i := bits / 8; i < len(b); i++ {
		b[i] = byte(r.IntN(254) + 1)
	}
	if rem := bits % 8; rem != 0 {
		i := bits / 8
		mask := byte(0xff >> rem)
		b[i] = pfx.Addr().AsSlice()[i]&^mask | byte(r.IntN(256))&mask
	}
	a, _ := netip.AddrFromSlice(b)
	if !pfx.Contains(a) {
		panic(fmt.Sprintf("host %s outside %s", a, pfx))
	}
	return a
}
