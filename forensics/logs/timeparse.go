package logs

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

var errBadTime = errors.New("bad timestamp")

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func parseMonth(s string) int {
	if len(s) != 3 {
		return 0
	}
	for i, m := range monthNames {
		if s == m || strings.EqualFold(s, m) {
			return i + 1
		}
	}
	return 0
}

func digits(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func validDate(y, mo, d, h, mi, s int) bool {
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60 {
		return false
	}
	return d <= daysIn(mo, y)
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseCLFTime parses the Common Log Format time "10/Oct/2000:13:55:36 -0700"
// by hand: it is on the hot path of every web log line.
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	d, ok1 := digits(s[0:2])
	mo := parseMonth(s[3:6])
	y, ok2 := digits(s[7:11])
	h, ok3 := digits(s[12:14])
	mi, ok4 := digits(s[15:17])
	sec, ok5 := digits(s[18:20])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || mo == 0 || !validDate(y, mo, d, h, mi, sec) {
		return time.Time{}, false
	}
	loc, ok := parseNumericZone(s[21:])
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc), true
}

// parseNumericZone parses "+hhmm", "+hh:mm" or "+hh"; UTC offsets come back
// as time.UTC so that no new Location is made per line.
func parseNumericZone(z string) (*time.Location, bool) {
	if len(z) < 3 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	hh, ok := digits(z[1:3])
	if !ok {
		return nil, false
	}
	mm := 0
	switch rest := z[3:]; len(rest) {
	case 0:
	case 2:
		if mm, ok = digits(rest); !ok {
			return nil, false
		}
	case 3:
		if rest[0] != ':' {
			return nil, false
		}
		if mm, ok = digits(rest[1:]); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	if hh > 23 || mm > 59 {
		return nil, false
	}
	off := hh*3600 + mm*60
	if z[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, true
	}
	return time.FixedZone("", off), true
}

// parseISOTime parses "2006-01-02T15:04:05[.frac][Z|±hh:mm|±hhmm]" and the
// same with a space for the T. Without a zone the time is in tz and
// assumed is true.
func parseISOTime(s string, tz *time.Location) (t time.Time, assumed bool, ok bool) {
	if tz == nil {
		tz = time.UTC // time.Date panics on a nil Location
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !validDate(y, mo, d, h, mi, sec) {
		return time.Time{}, false, false
	}
	nsec, rest, ok := isoFraction(s[19:])
	if !ok {
		return time.Time{}, false, false
	}
	rest = strings.TrimPrefix(rest, " ")
	var loc *time.Location
	switch {
	case rest == "":
		loc, assumed = tz, true
	case rest == "Z" || rest == "z" || rest == "UTC" || rest == "GMT":
		loc = time.UTC
	default:
		var okz bool
		if loc, okz = parseNumericZone(rest); !okz {
			return time.Time{}, false, false
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, loc), assumed, true
}

// parseEpoch parses seconds since 1970 with an optional fraction
// ("1591367999.305988"); 13, 16 and 19 digit integers are read as milli-,
// micro- and nanoseconds.
func parseEpoch(s string) (time.Time, bool) {
	if s == "" || len(s) > 32 {
		return time.Time{}, false
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	if !hasFrac {
		switch len(intPart) {
		case 13:
			return time.UnixMilli(n).UTC(), true
		case 16:
			return time.UnixMicro(n).UTC(), true
		case 19:
			return time.Unix(0, n).UTC(), true
		}
		if len(intPart) > 12 {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	if len(intPart) > 12 {
		return time.Time{}, false
	}
	nsec := 0
	scale := 100000000
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		if scale > 0 {
			nsec += int(c-'0') * scale
			scale /= 10
		}
	}
	return time.Unix(n, int64(nsec)).UTC(), true
}

var fallbackLayouts = []string{
	time.RFC1123Z, time.RFC1123, time.RFC850, time.ANSIC, time.UnixDate, time.RubyDate,
	"2006/01/02 15:04:05", "2006/01/02 15:04:05.000000", "01/02/2006 15:04:05",
	"02/Jan/2006:15:04:05", "Jan _2 2006 15:04:05", "Jan _2 15:04:05 2006",
}

// isoCache remembers the whole second of the last ISO 8601 time parsed:
// JSON logs come in time order with fractions of a second, so most lines
// share the date, time and zone of the line before and only the fraction
// is left to read.
type isoCache struct {
	sec     string // "2006-01-02T15:04:05"
	zone    string // the text after the fraction
	base    time.Time
	assumed bool
}

// parse is parseAnyTime(s, tz) for one tz.
func (c *isoCache) parse(s string, tz *time.Location) (time.Time, bool, bool) {
	if c.sec != "" && len(s) > 19 && s[:19] == c.sec {
		if nsec, zone, ok := isoFraction(s[19:]); ok && zone == c.zone {
			return c.base.Add(time.Duration(nsec)), c.assumed, true
		}
	}
	t, assumed, ok := parseAnyTime(s, tz)
	if !ok || !isoShape(s) || s[len(s)-1] <= ' ' {
		return t, assumed, ok
	}
	if nsec, zone, fok := isoFraction(s[19:]); fok && nsec == t.Nanosecond() {
		c.sec, c.zone, c.base, c.assumed = s[:19], zone, t.Add(-time.Duration(nsec)), assumed
	}
	return t, assumed, ok
}

// isoShape reports that s starts as parseISOTime wants, digits where
// digits go: parseAnyTime then reads it with parseISOTime and nothing else.
func isoShape(s string) bool {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isoFraction reads the fraction after the seconds of an ISO time as
// parseISOTime does, and returns the rest (the zone).
func isoFraction(rest string) (nsec int, zone string, ok bool) {
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return 0, "", false
		}
		rest = rest[i:]
	}
	return nsec, rest, true
}

// parseAnyTime tries the formats logs use, fastest first. assumed reports
// that the value had no zone and tz was used.
func parseAnyTime(s string, tz *time.Location) (t time.Time, assumed bool, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, false
	}
	if s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if t, ok := parseCLFTime(s); ok {
		return t, false, true
	}
	if t, a, ok := parseISOTime(s, tz); ok {
		return t, a, true
	}
	if c := s[0]; c >= '0' && c <= '9' {
		if t, ok := parseEpoch(s); ok {
			return t, false, true
		}
	}
	if len(s) > 64 {
		return time.Time{}, false, false
	}
	for _, l := range fallbackLayouts {
		if t, err := time.Parse(l, s); err == nil {
			zoned := strings.Contains(l, "MST") || strings.Contains(l, "Z07")
			if !zoned {
				t, _ = time.ParseInLocation(l, s, tz)
			}
			return t, !zoned, true
		}
	}
	return time.Time{}, false, false
}
