package forensics

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashID derives a deterministic identifier from its parts: a kind prefix
// and the first 16 hex digits of SHA-256 over the NUL-separated parts.
// The same evidence always gives the same ID, whatever the run order.
func HashID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return prefix + "-" + hex.EncodeToString(h.Sum(sum[:0])[:8])
}
