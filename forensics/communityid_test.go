package forensics

import (
	"net/netip"
	"testing"
)

// Vectors from corelight/community-id-spec baseline/README.md (default
// seed and seed=1 tables), plus Zeek's run-pcaps baselines.
func TestCommunityIDSpecVectors(t *testing.T) {
	const v6a, v6b = "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D"
	tests := []struct {
		name       string
		seed       uint16
		proto      uint8
		src, dst   string
		sport, dpt uint16
		want       string
	}{
		{"tcp out", 0, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
		{"tcp back", 0, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
		{"udp out", 0, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
		{"udp back", 0, 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
		{"sctp out", 0, 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
		{"sctp back", 0, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
		{"icmp echo request", 0, 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
		{"icmp echo reply", 0, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
		{"icmp one-way", 0, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk="},
		{"icmp6 echo request", 0, 58, v6a, v6b, 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
		{"icmp6 echo reply", 0, 58, v6b, v6a, 129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
		{"icmp6 one-way", 0, 58, v6a, v6b, 146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10="},
		{"rsvp out", 0, 46, "1.2.3.4", "5.6.7.8", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
		{"rsvp back", 0, 46, "5.6.7.8", "1.2.3.4", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
		{"rsvp6 out", 0, 46, v6a, v6b, 0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
		{"rsvp6 back", 0, 46, v6b, v6a, 0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
		{"seed1 tcp out", 1, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
		{"seed1 tcp back", 1, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
		{"seed1 udp", 1, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
		{"seed1 sctp", 1, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
		{"seed1 icmp request", 1, 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
		{"seed1 icmp reply", 1, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
		{"seed1 icmp one-way", 1, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
		{"seed1 icmp6 request", 1, 58, v6a, v6b, 128, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
		{"seed1 icmp6 reply", 1, 58, v6b, v6a, 129, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
		{"seed1 icmp6 one-way", 1, 58, v6a, v6b, 146, 0, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
		{"seed1 rsvp", 1, 46, "1.2.3.4", "5.6.7.8", 0, 0, "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
		{"seed1 rsvp6", 1, 46, v6b, v6a, 0, 0, "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
		// Zeek bifs.community_id.run-pcaps baselines.
		{"zeek tcp", 0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"zeek udp", 0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{"zeek icmp", 0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
		{"zeek ipv6 tcp", 0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{"zeek icmp6 unreachable", 0, 58, "3ffe:501:0:1802:260:97ff:feb6:7ff0", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:bnQKq8A2r//dWnkRW2EYcMhShjc="},
		{"zeek icmp6 neighbor solicit", 0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
		{"zeek icmp6 router advert", 0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
		{"zeek icmp6 router solicit", 0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CommunityID(tt.seed, tt.proto, netip.MustParseAddr(tt.src), netip.MustParseAddr(tt.dst), tt.sport, tt.dpt)
			if got != tt.want {
				t.Errorf("CommunityID = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIsICMPOneWay(t *testing.T) {
	tests := []struct {
		name  string
		proto uint8
		typ   uint8
		want  bool
	}{
		{"icmp echo", 1, 8, false},
		{"icmp unreachable", 1, 3, true},
		{"icmp6 echo reply", 58, 129, false},
		{"icmp6 packet too big", 58, 2, true},
		{"tcp", 6, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsICMPOneWay(tt.proto, tt.typ); got != tt.want {
				t.Errorf("IsICMPOneWay(%d, %d) = %v, want %v", tt.proto, tt.typ, got, tt.want)
			}
		})
	}
}

func BenchmarkCommunityID(b *testing.B) {
	src, dst := netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("5.6.7.8")
	b.ReportAllocs()
	for b.Loop() {
		_ = CommunityID(0, 6, src, dst, 1122, 3344)
	}
}
