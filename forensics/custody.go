package forensics

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// CustodyEntry is one action in a chain-of-custody log (DESIGN §7): what was
// done, when, with which arguments and tool, to which inputs and producing
// which outputs. Entries are hash-chained: PrevHash is the Hash of the entry
// before (empty for the first), and Hash is the SHA-256 of the entry's JSON
// form with Hash left empty. Removing, reordering or editing any entry
// breaks the chain from that point on.
//
// The same type backs a bundle's custody.jsonl and the case file's custody
// table, so a case file's history can be carried into a report unchanged.
type CustodyEntry struct {
	Seq         int        `json:"seq"`
	Time        Time       `json:"time"`
	Action      string     `json:"action"`
	Args        []string   `json:"args,omitempty"`
	ToolVersion string     `json:"tool_version"`
	Inputs      []FileHash `json:"inputs,omitempty"`
	Outputs     []FileHash `json:"outputs,omitempty"`
	User        string     `json:"user,omitempty"`
	PrevHash    string     `json:"prev_hash"`
	Hash        string     `json:"hash,omitempty"`
}

// FileHash names a file by path, size and SHA-256 (lowercase hex).
type FileHash struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// custodyCanon is the form an entry is hashed in: the fields of
// CustodyEntry in declaration order, Hash left out, and the time always in
// TimeLayout (nine fractional digits), whatever JSON form Time has, so a
// change of output formatting never invalidates a stored chain.
type custodyCanon struct {
	Seq         int        `json:"seq"`
	Time        string     `json:"time"`
	Action      string     `json:"action"`
	Args        []string   `json:"args,omitempty"`
	ToolVersion string     `json:"tool_version"`
	Inputs      []FileHash `json:"inputs,omitempty"`
	Outputs     []FileHash `json:"outputs,omitempty"`
	User        string     `json:"user,omitempty"`
	PrevHash    string     `json:"prev_hash"`
}

// ComputeHash returns the hex SHA-256 of e's canonical JSON form (see
// custodyCanon): stable across runs, platforms and output format changes.
//
// Strings are made valid UTF-8 first (each invalid byte becomes U+FFFD, as
// encoding/json writes it), so an entry hashes the same before and after a
// JSON round trip even when an argument was not UTF-8.
func (e CustodyEntry) ComputeHash() string {
	v := validUTF8
	files := func(fs []FileHash) []FileHash {
		out := make([]FileHash, len(fs))
		for i, f := range fs {
			out[i] = FileHash{Path: v(f.Path), Size: f.Size, SHA256: v(f.SHA256)}
		}
		return out
	}
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = v(a)
	}
	b, err := json.Marshal(custodyCanon{
		Seq: e.Seq, Time: e.Time.String(), Action: v(e.Action), Args: args, ToolVersion: v(e.ToolVersion),
		Inputs: files(e.Inputs), Outputs: files(e.Outputs), User: v(e.User), PrevHash: v(e.PrevHash),
	})
	if err != nil {
		// Cannot happen: every field is a plain value.
		panic(fmt.Sprintf("marshal custody entry: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	// One U+FFFD per invalid byte, exactly as encoding/json writes it, so
	// an entry read back from custody.jsonl hashes as it was written.
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// ChainCustody links entries after prev, the entries already in the log
// (nil or empty for a new log): each gets the next sequence number, PrevHash
// set to the hash before it and its own Hash. It returns the new entries
// only; prev is not modified. The caller appends them to its log.
func ChainCustody(prev []CustodyEntry, entries ...CustodyEntry) []CustodyEntry {
	prevHash, seq := "", 0
	if n := len(prev); n > 0 {
		prevHash, seq = prev[n-1].Hash, prev[n-1].Seq
	}
	out := make([]CustodyEntry, len(entries))
	for i, e := range entries {
		seq++
		e.Seq = seq
		e.PrevHash = prevHash
		e.Hash = e.ComputeHash()
		prevHash = e.Hash
		out[i] = e
	}
	return out
}

// CustodyError says which entry of a custody log fails and why.
type CustodyError struct {
	Index  int // 0-based position in the log
	Seq    int // the entry's own sequence number
	Reason string
}

func (e *CustodyError) Error() string {
	return fmt.Sprintf("custody entry %d (seq %d): %s", e.Index+1, e.Seq, e.Reason)
}

// VerifyCustody checks a whole log from its first entry: sequence numbers
// count up from 1, each PrevHash equals the Hash before it, and each Hash
// recomputes. It returns a *CustodyError for the first entry that fails.
func VerifyCustody(entries []CustodyEntry) error {
	prevHash := ""
	for i, e := range entries {
		switch {
		case e.Seq != i+1:
			return &CustodyError{Index: i, Seq: e.Seq, Reason: fmt.Sprintf("sequence number %d, want %d (entry removed or reordered)", e.Seq, i+1)}
		case e.PrevHash != prevHash:
			return &CustodyError{Index: i, Seq: e.Seq, Reason: "prev_hash does not match the entry before (entry removed, inserted or edited)"}
		case e.Hash != e.ComputeHash():
			return &CustodyError{Index: i, Seq: e.Seq, Reason: "hash does not recompute (entry edited)"}
		}
		prevHash = e.Hash
	}
	return nil
}
