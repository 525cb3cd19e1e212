package logs

import (
	"fmt"
	"slices"
	"strings"
)

// Normalized field targets.
const (
	fTime = iota
	fSrc
	fSrcPort
	fDst
	fDstPort
	fMethod
	fHost
	fPath
	fQuery
	fRequest
	fStatus
	fBytes
	fUA
	fReferrer
	fUser
	fCredential
	fAction
	fXFF
	fForwarded
	fRealIP
	fAuth
	fClientIP
	fIndicator
	nTargets
)

var targetNames = [...]string{
	fTime: "time", fSrc: "src_ip", fSrcPort: "src_port", fDst: "dst_ip", fDstPort: "dst_port",
	fMethod: "method", fHost: "host", fPath: "path", fQuery: "query", fRequest: "request",
	fStatus: "status", fBytes: "bytes", fUA: "user_agent", fReferrer: "referrer", fUser: "user",
	fCredential: "credential", fAction: "action", fXFF: "xff", fForwarded: "forwarded",
	fRealIP: "x_real_ip", fAuth: "authorization", fClientIP: "client_ip",
}

// FieldNames lists the normalized names --field NAME=PATH accepts, sorted.
// "indicators.KEY" is accepted too: the value lands in Event.Indicators.
func FieldNames() []string {
	out := make([]string, 0, len(targetNames))
	for _, n := range targetNames {
		if n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func targetByName(name string) (int, bool) {
	for i, n := range targetNames {
		if n == name {
			return i, true
		}
	}
	switch name { // friendly aliases
	case "ip", "src", "source_ip":
		return fSrc, true
	case "timestamp", "@timestamp":
		return fTime, true
	case "ua":
		return fUA, true
	case "referer":
		return fReferrer, true
	case "x_forwarded_for":
		return fXFF, true
	}
	return 0, false
}

type fieldEntry struct {
	target int8
	prio   int8
	ind    string // indicator key for fIndicator
}

// fieldMap maps lower-cased record paths to targets: the user's --field
// mappings (priority 0) over the built-in JSON names.
type fieldMap struct {
	json map[string]fieldEntry
	// user holds the --field mappings alone, for column and variable
	// based formats (W3C, nginx, zeek): lower-cased name → entry.
	user map[string]fieldEntry
}

// defaultJSONFields are the names JSON logs use, in order of preference per
// target: ECS first, then common alternatives and AWS API Gateway /
// CloudTrail names.
var defaultJSONFields = [nTargets][]string{
	fTime:       {"@timestamp", "timestamp", "time", "ts", "requesttime", "time_local", "time_iso8601", "datetime", "date", "eventtime", "event.created", "requestcontext.requesttime"},
	fSrc:        {"source.ip", "source.address", "remote_addr", "remote_ip", "src_ip", "client_ip", "clientip", "ip", "sourceipaddress", "identity.sourceip", "requestcontext.identity.sourceip", "c-ip", "remoteip", "remote_host"},
	fSrcPort:    {"source.port", "remote_port", "src_port", "client_port", "sourceport"},
	fDst:        {"destination.ip", "destination.address", "server.ip", "server.address", "server_addr", "dst_ip", "dest_ip"},
	fDstPort:    {"destination.port", "server.port", "server_port", "dst_port", "dest_port"},
	fMethod:     {"http.request.method", "method", "http_method", "httpmethod", "request_method", "requestcontext.httpmethod", "verb"},
	fHost:       {"url.domain", "http.request.headers.host", "http_host", "host", "domainname", "server_name", "vhost", "requestcontext.domainname"},
	fPath:       {"url.path", "url.original", "path", "uri", "request_uri", "url", "resourcepath", "requestcontext.path", "route"},
	fQuery:      {"url.query", "query", "query_string", "querystring", "args"},
	fRequest:    {"request", "request_line", "http.request.line"},
	fStatus:     {"http.response.status_code", "status", "status_code", "statuscode", "response_code", "response.status", "httpstatus", "requestcontext.status"},
	fBytes:      {"http.response.body.bytes", "http.response.bytes", "bytes", "body_bytes_sent", "bytes_sent", "responselength", "response_size", "size"},
	fUA:         {"user_agent.original", "http.request.headers.user-agent", "user_agent", "useragent", "ua", "http_user_agent", "identity.useragent", "requestcontext.identity.useragent"},
	fReferrer:   {"http.request.referrer", "referrer", "referer", "http_referer", "http.request.headers.referer"},
	fUser:       {"user.id", "user.name", "user", "username", "user_name", "remote_user", "userid", "user_id", "identity.user", "useridentity.username", "useridentity.arn", "requestcontext.identity.user", "caller", "identity.caller"},
	fCredential: {"api_key_id", "apikeyid", "key_id", "keyid", "auth.key_id", "auth.api_key_id", "identity.apikeyid", "requestcontext.identity.apikeyid", "apikey", "api_key", "x_api_key", "x-api-key", "identity.apikey", "requestcontext.identity.apikey", "useridentity.accesskeyid", "access_key_id"},
	fAction:     {"event.action", "action", "operation", "eventname", "event"},
	fXFF:        {"http_x_forwarded_for", "x_forwarded_for", "xff", "forwarded_for", "http.request.headers.x-forwarded-for", "headers.x-forwarded-for", "x-forwarded-for", "request.headers.x-forwarded-for"},
	fForwarded:  {"http_forwarded", "forwarded", "http.request.headers.forwarded", "headers.forwarded"},
	fRealIP:     {"http_x_real_ip", "x_real_ip", "x-real-ip", "http.request.headers.x-real-ip", "headers.x-real-ip"},
	fAuth:       {"authorization", "http_authorization", "http.request.headers.authorization", "headers.authorization", "request.headers.authorization", "token", "jwt", "access_token", "bearer", "auth.token"},
	fClientIP:   {"client.ip", "client.address", "true_client_ip", "cf_connecting_ip"},
}

// defaultIndicators are kept as Event.Indicators when present.
var defaultIndicators = map[string]string{
	"requestid": "request_id", "request_id": "request_id", "http.request.id": "request_id", "requestcontext.requestid": "request_id",
	"trace.id": "trace_id", "tls.version": "tls_version", "ssl_protocol": "tls_version", "tls.cipher": "tls_cipher",
	"upstream_addr": "upstream_addr", "request_time": "request_time", "responselatency": "request_time",
	"event.dataset": "dataset", "protocol": "protocol", "http.version": "http_version",
}

func newFieldMap(user map[string]string) (fieldMap, error) {
	fm := fieldMap{json: map[string]fieldEntry{}, user: map[string]fieldEntry{}}
	for t, paths := range defaultJSONFields {
		for i, p := range paths {
			if _, dup := fm.json[p]; !dup {
				fm.json[p] = fieldEntry{target: int8(t), prio: int8(i + 1)}
			}
		}
	}
	for p, k := range defaultIndicators {
		fm.json[p] = fieldEntry{target: fIndicator, ind: k}
	}
	names := make([]string, 0, len(user))
	for n := range user {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		path := strings.ToLower(strings.TrimSpace(user[name]))
		if path == "" {
			return fm, fmt.Errorf("field %s: empty path", name)
		}
		var e fieldEntry
		if k, ok := strings.CutPrefix(name, "indicators."); ok && k != "" {
			e = fieldEntry{target: fIndicator, ind: k}
		} else if t, ok := targetByName(name); ok {
			e = fieldEntry{target: int8(t)}
		} else {
			return fm, fmt.Errorf("unknown field name %q in --field (known: %s, indicators.KEY)", name, strings.Join(FieldNames(), ", "))
		}
		fm.json[path] = e
		fm.user[path] = e
	}
	return fm, nil
}

// set stores v for target t on r; used by every column-based format.
func (r *webRec) set(t int, v, ind string) {
	switch t {
	case fTime:
		r.time = v
	case fSrc:
		r.src = v
	case fSrcPort:
		r.srcPort = v
	case fDst:
		r.dst = v
	case fDstPort:
		r.dstPort = v
	case fMethod:
		r.method = v
	case fHost:
		r.host = v
	case fPath:
		r.path = v
	case fQuery:
		r.query = v
	case fRequest:
		r.request = v
	case fStatus:
		r.status = v
	case fBytes:
		r.bytes = v
	case fUA:
		r.userAgent = v
	case fReferrer:
		r.referrer = v
	case fUser:
		r.user = v
	case fCredential:
		r.credential = v
	case fAction:
		r.action = v
	case fXFF:
		r.xff = v
	case fForwarded:
		r.forwarded = v
	case fRealIP:
		r.realIP = v
	case fAuth:
		r.auth = v
	case fClientIP:
		r.clientIP = v
	case fIndicator:
		r.indicator(ind, v)
	}
}
