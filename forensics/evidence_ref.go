package forensics

import (
	"fmt"
	"strconv"
)

// EvidenceRef points at the original bytes a record came from: the input
// file, its SHA-256, and the packet number or line number (1-based) with the
// byte offset of that packet record or line in the (decompressed) stream.
type EvidenceRef struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Packet uint64 `json:"packet,omitempty"`
	Line   uint64 `json:"line,omitempty"`
	Offset int64  `json:"offset"`
}

// String renders the reference the way reports cite it: file:line or
// file#packet, with the byte offset.
func (r EvidenceRef) String() string {
	switch {
	case r.Line > 0:
		return r.File + ":" + strconv.FormatUint(r.Line, 10) + " (byte " + strconv.FormatInt(r.Offset, 10) + ")"
	case r.Packet > 0:
		return r.File + " packet " + strconv.FormatUint(r.Packet, 10) + " (byte " + strconv.FormatInt(r.Offset, 10) + ")"
	}
	return fmt.Sprintf("%s (byte %d)", r.File, r.Offset)
}
