package logs

import (
	"errors"
	"fmt"
	"strings"
)

// w3cParser reads W3C extended logs (IIS) and CloudFront standard logs:
// the #Fields directive names the columns. W3C times are UTC by the
// specification, so no zone is assumed.
type w3cParser struct {
	cloudfront bool
	cols       []w3cCol
	fields     []string
	rec        webRec
	sep        string
}

type w3cCol struct {
	target int
	ind    string
	date   bool
	time   bool
}

var w3cTargets = map[string]int{
	"c-ip": fSrc, "c-port": fSrcPort, "s-ip": fDst, "s-port": fDstPort, "cs-method": fMethod, "cs-uri-stem": fPath,
	"cs-uri-query": fQuery, "sc-status": fStatus, "sc-bytes": fBytes, "cs(user-agent)": fUA, "cs(referer)": fReferrer,
	"cs(referrer)": fReferrer, "cs-username": fUser, "cs-host": fHost, "cs(host)": fHost, "x-host-header": fHost,
	"x-forwarded-for": fXFF, "cs(x-forwarded-for)": fXFF, "cs(forwarded)": fForwarded, "cs(authorization)": fAuth,
	"cs-uri": fPath, "cs(x-api-key)": fCredential, "cs(x-real-ip)": fRealIP,
}

var w3cIndicators = map[string]string{
	"time-taken": "request_time", "ssl-protocol": "tls_version", "ssl-cipher": "tls_cipher", "x-edge-location": "edge_location",
	"x-edge-request-id": "request_id", "x-edge-result-type": "edge_result", "s-sitename": "site", "s-computername": "server",
	"cs-protocol": "protocol", "cs-protocol-version": "http_version", "sc-substatus": "substatus", "sc-win32-status": "win32_status",
}

var errNoFields = errors.New("record before #Fields directive")

func (p *w3cParser) parse(st *state, s string) error {
	if strings.HasPrefix(s, "#") {
		if rest, ok := strings.CutPrefix(s, "#Fields:"); ok {
			names := strings.Fields(rest)
			p.cols = make([]w3cCol, len(names))
			for i, n := range names {
				ln := strings.ToLower(n)
				c := w3cCol{target: -1}
				switch {
				case ln == "date":
					c.date = true
				case ln == "time":
					c.time = true
				}
				if e, ok := st.fields.user[ln]; ok {
					c.target, c.ind = int(e.target), e.ind
				} else if t, ok := w3cTargets[ln]; ok {
					c.target = t
				} else if k, ok := w3cIndicators[ln]; ok {
					c.target, c.ind = fIndicator, k
				}
				p.cols[i] = c
			}
		}
		return errIgnore
	}
	if p.cols == nil {
		return errNoFields
	}
	if p.sep == "" {
		p.sep = " "
		if p.cloudfront || strings.IndexByte(s, '\t') >= 0 {
			p.sep = "\t"
		}
	}
	p.fields = appendSplit(p.fields[:0], s, p.sep, len(p.cols)+1)
	if len(p.fields) != len(p.cols) && !st.truncated {
		return fmt.Errorf("record has %d fields, #Fields names %d", len(p.fields), len(p.cols))
	}
	r := &p.rec
	r.reset()
	var date, tm string
	for i, v := range p.fields {
		if i >= len(p.cols) {
			break
		}
		c := p.cols[i]
		switch {
		case c.date:
			date = v
		case c.time:
			tm = v
		case c.target >= 0:
			r.set(c.target, v, c.ind)
		}
	}
	if date != "" && tm != "" {
		r.time = date + "T" + tm + "Z"
	}
	kind := "web"
	ev := st.slot()
	if err := st.build(r, kind, ev); err != nil {
		return err
	}
	ev.TimeRaw = date + " " + tm
	st.emitSlot(ev)
	return nil
}
