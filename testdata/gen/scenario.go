package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// request is one HTTP request of the scenario, rendered into the nginx
// log, the API gateway log (for /api/ paths) and, inside the capture
// window, into packets.
type request struct {
	T         time.Time
	IP        netip.Addr
	Port      uint16
	Method    string
	Path      string
	Status    int
	Bytes     int
	UA        string
	Referrer  string
	Key       string // API key id (gateway log only)
	User      string
	Session   int // scenario session number, for the capture
	TLS       *tlsProfile
	RequestID string
}

type actorKind int

const (
	kindCustomer actorKind = iota
	kindCampaign
	kindCrawler
	kindScanner
)

type scenarioSession struct {
	N     int
	Kind  actorKind
	IP    netip.Addr
	Reqs  []*request
	TLS   *tlsProfile
	Start time.Time
}

// scenario is the whole sample case: who did what, when.
type scenario struct {
	r          *rand.Rand
	start      time.Time
	days       int
	sessions   []*scenarioSession
	pools      map[netip.Addr]pool
	truth      truth
	nextPort   uint16
	window     [2]time.Time // the edge capture's time window
	serverIP   netip.Addr
	serverIPv6 netip.Addr
}

type truth struct {
	Description string      `json:"description"`
	Campaign    truthGroup  `json:"campaign"`
	Crawler     truthGroup  `json:"crawler"`
	Customers   truthGroup  `json:"customers"`
	Travellers  truthGroup  `json:"travellers"`
	Scanner     truthGroup  `json:"scanner"`
	Window      [2]string   `json:"capture_window"`
	Objects     truthObject `json:"campaign_objects"`
}

type truthGroup struct {
	Label      string   `json:"label"`
	IPs        []string `json:"ips"`
	Credential string   `json:"credential,omitempty"`
	UserAgent  string   `json:"user_agent,omitempty"`
	Countries  []string `json:"countries,omitempty"`
}

type truthObject struct {
	First int `json:"first_customer_id"`
	Last  int `json:"last_customer_id"`
}

const (
	actorUA   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 Safari/537.36"
	appUA     = "VictimShop/5.2.1 (iPhone; iOS 17.5.1; ko-KR) Alamofire/5.9.1"
	crawlerUA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	actorKey  = "k2019-legacy"
	apiHost   = "api.victimshop.example"
	webHost   = "www.victimshop.example"
)

var browserUAs = []string{
	"Mozilla/5.0 (Linux; Android 14; SM-S928N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; SM-A536N) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Whale/3.26.244.21",
}

func newScenario(seed uint64) *scenario {
	s := &scenario{
		r:          rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start:      time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC),
		days:       14,
		pools:      map[netip.Addr]pool{},
		nextPort:   40000,
		serverIP:   netip.MustParseAddr("203.0.113.10"),
		serverIPv6: netip.MustParseAddr("2001:db8:100::10"),
	}
	s.window = [2]time.Time{time.Date(2025, 7, 8, 1, 0, 0, 0, time.UTC), time.Date(2025, 7, 8, 3, 0, 0, 0, time.UTC)}
	s.truth.Description = "tracehop sample case: KR shop customers, a Googlebot crawler, a scanner, and an actor reading customer records one by one with a retained partner API key from rotating overseas VPS addresses."
	s.truth.Window = [2]string{s.window[0].Format(time.RFC3339), s.window[1].Format(time.RFC3339)}
	s.customers()
	s.campaign()
	s.crawler()
	s.scanner()
	slices.SortStableFunc(s.sessions, func(a, b *scenarioSession) int { return a.Start.Compare(b.Start) })
	for _, g := range []*truthGroup{&s.truth.Campaign, &s.truth.Crawler, &s.truth.Customers, &s.truth.Travellers, &s.truth.Scanner} {
		slices.Sort(g.IPs)
		g.IPs = slices.Compact(g.IPs)
		slices.Sort(g.Countries)
		g.Countries = slices.Compact(g.Countries)
	}
	return s
}

func (s *scenario) addr(p pool) netip.Addr {
	for {
		a := p.host(s.r)
		if _, used := s.pools[a]; !used {
			s.pools[a] = p
			return a
		}
	}
}

func (s *scenario) port() uint16 {
	s.nextPort++
	if s.nextPort > 60999 {
		s.nextPort = 40001
	}
	return s.nextPort
}

func (s *scenario) session(kind actorKind, ip netip.Addr, start time.Time, tls *tlsProfile) *scenarioSession {
	ss := &scenarioSession{N: len(s.sessions) + 1, Kind: kind, IP: ip, Start: start, TLS: tls}
	s.sessions = append(s.sessions, ss)
	return ss
}

func (s *scenario) add(ss *scenarioSession, t time.Time, method, path string, status, bytes int, ua, ref, key, user string) {
	ss.Reqs = append(ss.Reqs, &request{
		T: t, IP: ss.IP, Port: s.port(), Method: method, Path: path, Status: status, Bytes: bytes,
		UA: ua, Referrer: ref, Key: key, User: user, Session: ss.N, TLS: ss.TLS,
		RequestID: fmt.Sprintf("%016x", s.r.Uint64()),
	})
}

// daytimeKST picks a time on day d between 08:00 and 23:00 KST.
func (s *scenario) daytimeKST(d int) time.Time {
	return s.start.Add(time.Duration(d)*24*time.Hour - 9*time.Hour + 8*time.Hour + time.Duration(s.r.IntN(15*3600))*time.Second)
}

func (s *scenario) customers() {
	const n = 150
	for i := range n {
		id := 10000 + i*7 + s.r.IntN(7)
		user := fmt.Sprintf("c%d", id)
		key := fmt.Sprintf("ck_%08x", s.r.Uint32())
		app := s.r.IntN(10) < 4
		ua := appUA
		tls := &okhttpTLS
		if !app {
			ua = browserUAs[s.r.IntN(len(browserUAs))]
			tls = &chromeTLS
		}
		home := krPools[s.r.IntN(len(krPools))]
		ip := s.addr(home)
		if i == 17 {
			ip = s.addr(krV6)
		}
		s.truth.Customers.IPs = append(s.truth.Customers.IPs, ip.String())
		sessions := 3 + s.r.IntN(3)
		for k := range sessions {
			t := s.daytimeKST(s.r.IntN(s.days))
			if k == 0 && i%10 == 0 {
				// Some customers are active during the capture window.
				t = s.window[0].Add(time.Duration(s.r.IntN(100*60)) * time.Second)
			}
			sip := ip
			if home.Prefix != "2001:e60::/32" && s.r.IntN(3) == 0 {
				sip = s.addr(home) // mobile carriers hand out new addresses
				s.truth.Customers.IPs = append(s.truth.Customers.IPs, sip.String())
			}
			if (i == 3 || i == 42 || i == 99) && k == sessions-1 {
				// A customer on a trip abroad: foreign, but an ordinary customer.
				sip = s.addr(travelPools[i%2])
				s.truth.Travellers.IPs = append(s.truth.Travellers.IPs, sip.String())
				s.truth.Travellers.Countries = append(s.truth.Travellers.Countries, travelPools[i%2].Country)
			}
			ss := s.session(kindCustomer, sip, t, tls)
			ref := ""
			if !app {
				s.add(ss, t, "GET", "/", 200, 18000+s.r.IntN(4000), ua, "https://www.google.com/", "", "")
				t = t.Add(time.Duration(2+s.r.IntN(20)) * time.Second)
				for range 1 + s.r.IntN(3) {
					p := fmt.Sprintf("/products/%d", 500+s.r.IntN(400))
					s.add(ss, t, "GET", p, 200, 9000+s.r.IntN(9000), ua, "https://"+webHost+"/", "", "")
					ref = "https://" + webHost + p
					t = t.Add(time.Duration(5+s.r.IntN(60)) * time.Second)
				}
			}
			s.add(ss, t, "GET", fmt.Sprintf("/api/v1/customers/%d", id), 200, 700+s.r.IntN(300), ua, ref, key, user)
			t = t.Add(time.Duration(1+s.r.IntN(10)) * time.Second)
			s.add(ss, t, "GET", fmt.Sprintf("/api/v1/orders?customer=%d&page=1", id), 200, 1500+s.r.IntN(2000), ua, ref, key, user)
			if s.r.IntN(4) == 0 {
				t = t.Add(time.Duration(10+s.r.IntN(90)) * time.Second)
				s.add(ss, t, "POST", "/api/v1/cart", 201, 120, ua, ref, key, user)
			}
		}
	}
	s.truth.Customers.Label = "ordinary customers (KR, some on mobile carriers that change address)"
	s.truth.Travellers.Label = "ordinary customers seen once from abroad"
}

// campaign: the actor reads customer records in ID order, one request
// every few seconds, handing the read over from one rented server to the
// next within a minute, at night in Korea, over two weeks.
func (s *scenario) campaign() {
	var ips []netip.Addr
	for i := range 55 {
		p := hostingPools[i%len(hostingPools)]
		ip := s.addr(p)
		if i == 11 || i == 23 {
			// two servers rented in the same /24 as an earlier one
			prev := ips[i-10].As4()
			prev[3] = byte(200 + i)
			ip = netip.AddrFrom4(prev)
			s.pools[ip] = hostingPools[(i-10)%len(hostingPools)]
		}
		ips = append(ips, ip)
		s.truth.Campaign.Countries = append(s.truth.Campaign.Countries, p.Country)
	}
	obj := 10000
	s.truth.Campaign.Label = "one actor: retained partner API key, old Chrome user agent, sequential customer-record reads from rotating overseas VPS addresses"
	s.truth.Campaign.Credential = actorKey
	s.truth.Campaign.UserAgent = actorUA
	s.truth.Objects.First = obj
	use := 0
	for shift := range 6 {
		// shifts start 01:00-03:00 UTC (10:00-12:00 KST) on days 1,3,5,7,9,12;
		// shift 3 (day 7) falls in the capture window.
		day := []int{1, 3, 5, 7, 10, 12}[shift]
		t := s.start.Add(time.Duration(day)*24*time.Hour + time.Hour + time.Duration(s.r.IntN(1800))*time.Second)
		if day == 7 {
			t = s.window[0].Add(5 * time.Minute)
		}
		for range 10 {
			ip := ips[use%len(ips)]
			use++
			s.truth.Campaign.IPs = append(s.truth.Campaign.IPs, ip.String())
			ss := s.session(kindCampaign, ip, t, &actorTLS)
			n := 25 + s.r.IntN(10)
			for range n {
				status, size := 200, 800+s.r.IntN(400)
				if s.r.IntN(25) == 0 {
					status, size = 404, 60 // deleted accounts
				}
				s.add(ss, t, "GET", fmt.Sprintf("/api/v1/customers/%d", obj), status, size, actorUA, "", actorKey, "")
				obj++
				t = t.Add(time.Duration(2000+s.r.IntN(2500)) * time.Millisecond)
			}
			t = t.Add(time.Duration(5+s.r.IntN(40)) * time.Second)
		}
	}
	s.truth.Objects.Last = obj - 1
}

// crawler: Googlebot walks the product catalogue every day — it enumerates
// too, but it is benign and must stay apart from the attack.
func (s *scenario) crawler() {
	var ips []netip.Addr
	for range 6 {
		ip := s.addr(crawlerPool)
		ips = append(ips, ip)
		s.truth.Crawler.IPs = append(s.truth.Crawler.IPs, ip.String())
	}
	s.truth.Crawler.Label = "Googlebot (benign crawler)"
	s.truth.Crawler.UserAgent = crawlerUA
	for d := range s.days {
		ip := ips[d%len(ips)]
		t := s.start.Add(time.Duration(d)*24*time.Hour + time.Duration(s.r.IntN(20*3600))*time.Second)
		ss := s.session(kindCrawler, ip, t, &chromeTLS)
		s.add(ss, t, "GET", "/robots.txt", 200, 120, crawlerUA, "", "", "")
		for k := range 20 {
			t = t.Add(time.Duration(20+s.r.IntN(40)) * time.Second)
			s.add(ss, t, "GET", fmt.Sprintf("/products/%d", 500+(d*20+k)%400), 200, 9000+s.r.IntN(9000), crawlerUA, "", "", "")
		}
	}
}

// scanner: one opportunistic scanner probing well-known paths, including
// a TLS handshake sent to the plain-HTTP port (garbage request line).
func (s *scenario) scanner() {
	p := pool{"185.220.100.0/22", "DE", "Germany", "Berlin", "BE", 52.52, 13.405, 200, 208294, "Example Scanning Network", true}
	ip := s.addr(p)
	s.truth.Scanner.IPs = []string{ip.String()}
	s.truth.Scanner.Label = "opportunistic scanner"
	t := s.start.Add(4*24*time.Hour + 3*time.Hour)
	ss := s.session(kindScanner, ip, t, nil)
	ua := "Mozilla/5.0 zgrab/0.x"
	for _, path := range []string{"/.env", "/wp-login.php", "/.git/config", "/phpmyadmin/", "/api/v1/customers/../../etc/passwd", "/cgi-bin/luci/;stok=/locale"} {
		s.add(ss, t, "GET", path, 404, 150, ua, "", "", "")
		t = t.Add(700 * time.Millisecond)
	}
	s.add(ss, t, "\x16\x03\x01", "", 400, 150, "-", "", "", "")
}
