package logs

import (
	"encoding/base64"
	"strings"

	"github.com/tracehop/tracehop/forensics"
)

const maxJWT = 16 << 10

// looksLikeJWT reports a compact JWS: three base64url parts, the header
// starting with "eyJ" ('{"').
func looksLikeJWT(s string) bool {
	if len(s) < 10 || len(s) > maxJWT || !strings.HasPrefix(s, "eyJ") || strings.Count(s, ".") != 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '=') {
			return false
		}
	}
	return true
}

// jwtIndicators decodes a JWT without verifying it (we have no key, and
// the claims are evidence of what the client presented, not proof of who
// it is) and records kid, alg, iss, sub, iat, exp, jti and the token's
// SHA-256. It returns the kid.
func (st *state) jwtIndicators(ev *forensics.Event, r *webRec, tok string) string {
	parts := strings.SplitN(tok, ".", 3)
	r.indicator("jwt_sha256", sha256Hex(tok))
	var kid string
	want := func(prefix string, names ...string) jsonVisitor {
		return func(path []byte, kind byte, raw string) {
			if kind == jsArray || kind == jsNull {
				return
			}
			for _, n := range names {
				if string(path) == n {
					v := jsonUnquote(raw)
					if n == "kid" && prefix == "jwt_" {
						kid = v
					}
					r.indicator(prefix+n, v)
				}
			}
		}
	}
	if h, ok := b64url(parts[0]); ok {
		if _, err := walkJSON(h, nil, want("jwt_", "kid", "alg"), nil); err != nil {
			ev.Flags = append(ev.Flags, "jwt_header_invalid")
		}
	} else {
		ev.Flags = append(ev.Flags, "jwt_header_invalid")
	}
	if p, ok := b64url(parts[1]); ok {
		if _, err := walkJSON(p, nil, want("jwt_", "iss", "sub", "iat", "exp", "jti"), nil); err != nil {
			ev.Flags = append(ev.Flags, "jwt_payload_invalid")
		}
	} else {
		ev.Flags = append(ev.Flags, "jwt_payload_invalid")
	}
	return kid
}

func b64url(s string) (string, bool) {
	s = strings.TrimRight(s, "=")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// basicUser returns the user name of an HTTP Basic credential; the
// password is never kept.
func basicUser(tok string) string {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return ""
	}
	u, _, _ := strings.Cut(string(b), ":")
	return u
}
