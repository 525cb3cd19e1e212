package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tracehop/tracehop/forensics"
	"github.com/tracehop/tracehop/forensics/evidence"
)

// Names of the files of a bundle. Every name is fixed: nothing derived from
// evidence ever becomes a path, and all writes go through an os.Root.
const (
	FileReportJSON = "report.json"
	FileReportHTML = "report.html"
	FileReportPDF  = "report.pdf"
	FileCampaigns  = "campaigns.csv"
	FileSessions   = "sessions.csv"
	FileIPs        = "ips.csv"
	FileEvents     = "events.csv"
	FileFlows      = "flows.csv"
	FileChains     = "chains.csv"
	FileLinks      = "links.csv"
	FileSTIX       = "stix.json"
	FileCustody    = "custody.jsonl"
	FileManifest   = "manifest.json"
	FileSignature  = "manifest.sig"
)

// bundleFiles are every name a bundle may hold.
var bundleFiles = []string{FileReportJSON, FileReportHTML, FileReportPDF, FileCampaigns, FileSessions, FileIPs,
	FileEvents, FileFlows, FileChains, FileLinks, FileSTIX, FileCustody, FileManifest, FileSignature}

// AllFormats are the renderers WriteBundle runs when Options.Formats is empty.
var AllFormats = []string{"html", "pdf", "json", "csv", "stix"}

// Options control WriteBundle.
type Options struct {
	// OutDir is the bundle directory; it is created if missing.
	OutDir string
	// Formats selects renderers among html, pdf, json, csv, stix (default
	// all). manifest.json and custody.jsonl are always written.
	Formats []string
	// SignKey is a PEM Ed25519 private key file (from GenerateKey); when set,
	// manifest.sig is written and the cover shows the key fingerprint.
	SignKey string
	// ReportTime pins the time recorded in manifest.json and custody.jsonl.
	// Zero means the wall clock; set it for reproducible bundles.
	ReportTime time.Time
	// CaseID, Examiner and Organisation go on the cover; CaseID and
	// Examiner default to the Case's own.
	CaseID, Examiner, Organisation string
	// Command is the argument list recorded in the custody entry.
	Command []string
	// Custody is the custody log so far (e.g. from a case file); the
	// bundle's custody.jsonl carries it followed by this run's entry.
	Custody []forensics.CustodyEntry
	// TLP is the Traffic Light Protocol marking for STIX and the cover
	// (clear, green, amber, amber+strict, red); default amber.
	TLP string
}

// Manifest is manifest.json: what the bundle contains and what it was made
// from, with a SHA-256 for every file. Digest is the SHA-256 of the
// manifest's own canonical form with Digest empty, so an edit of any byte
// is caught even in an unsigned bundle.
type Manifest struct {
	Schema       string               `json:"schema"`
	Generated    forensics.Time       `json:"generated"`
	Tool         forensics.ToolInfo   `json:"tool"`
	CaseID       string               `json:"case_id,omitempty"`
	Examiner     string               `json:"examiner,omitempty"`
	Organisation string               `json:"organisation,omitempty"`
	Inputs       []InputCheck         `json:"inputs"`
	Files        []forensics.FileHash `json:"files"`
	// ContentSHA256 is the SHA-256 of report.json (printed in the PDF
	// footer), recorded even when report.json is not written.
	ContentSHA256 string  `json:"content_sha256"`
	Signer        *Signer `json:"signer,omitempty"`
	Digest        string  `json:"digest,omitempty"`
}

// ManifestSchema is the Manifest.Schema of this version.
const ManifestSchema = "tracehop-manifest/1"

// InputCheck is one evidence file: the SHA-256 taken at intake and the
// result of hashing it again when the report was written.
type InputCheck struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Reverified is "match", "mismatch" or "unavailable" (stdin, moved or
	// unreadable file).
	Reverified     string `json:"reverified"`
	ReverifiedHash string `json:"reverified_sha256,omitempty"`
}

// Signer identifies the key that signed manifest.sig.
type Signer struct {
	Algorithm   string `json:"algorithm"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
}

// bundle writes the files of a bundle as they are rendered, through an
// os.Root (no name can leave the directory, symlinks included), and keeps
// the size and SHA-256 of each. Large tables are streamed to disk, never
// held whole: the report of a million-line log is gigabytes.
type bundle struct {
	root *os.Root
	// mu guards files: the CSV tables are written beside the other files.
	mu    sync.Mutex
	files map[string]forensics.FileHash
}

// openBundle opens (creating) dir for a new bundle and removes its
// manifest.json and manifest.sig first: a bundle cut short (a crash, a
// render error) has no manifest, so it never verifies.
func openBundle(dir string) (*bundle, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open output directory: %w", err)
	}
	for _, name := range []string{FileManifest, FileSignature} {
		if err := root.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			root.Close()
			return nil, fmt.Errorf("remove stale %s: %w", name, err)
		}
	}
	return &bundle{root: root, files: map[string]forensics.FileHash{}}, nil
}

// add writes a file rendered in memory.
func (b *bundle) add(name string, data []byte) error {
	w, err := b.create(name)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.abort()
		return fmt.Errorf("write %s: %w", name, err)
	}
	return w.Close()
}

// create opens name for writing; Close records its size and hash.
func (b *bundle) create(name string) (*bundleFile, error) {
	f, err := b.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return &bundleFile{b: b, name: name, f: f, h: sha256.New()}, nil
}

// bundleFile is one bundle file being written, hashed as it goes.
type bundleFile struct {
	b    *bundle
	name string
	f    *os.File
	h    hash.Hash
	n    int64
}

func (w *bundleFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *bundleFile) Close() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	fh := forensics.FileHash{Path: w.name, Size: w.n, SHA256: hex.EncodeToString(w.h.Sum(nil))}
	w.b.mu.Lock()
	w.b.files[w.name] = fh
	w.b.mu.Unlock()
	return nil
}

// hashOf is the size and hash of file name as written (zero if not).
func (b *bundle) hashOf(name string) forensics.FileHash {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.files[name]
}

// abort closes a file whose writing failed; it is not listed.
func (w *bundleFile) abort() { w.f.Close() }

// hashes lists the files written so far, sorted by name.
func (b *bundle) hashes() []forensics.FileHash {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]forensics.FileHash, 0, len(b.files))
	for _, fh := range b.files {
		out = append(out, fh)
	}
	slices.SortFunc(out, func(a, b forensics.FileHash) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// removeStale removes every bundle file name this run did not write (a
// format left out, no events, no key): verify would call it unlisted.
// Only our own fixed names are touched.
func (b *bundle) removeStale() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, name := range bundleFiles {
		if _, ok := b.files[name]; ok {
			continue
		}
		if err := b.root.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", name, err)
		}
	}
	return nil
}

// WriteBundle renders c into opts.OutDir: the selected formats, then
// custody.jsonl (opts.Custody plus one entry for this run), manifest.json
// and, with a key, manifest.sig. Everything except manifest.json and
// custody.jsonl is a pure function of c and opts; with ReportTime set
// those two are too.
func WriteBundle(ctx context.Context, c *forensics.Case, opts Options) (*Manifest, error) {
	if c == nil {
		return nil, errors.New("write bundle: nil case")
	}
	if opts.OutDir == "" {
		return nil, errors.New("write bundle: no output directory")
	}
	formats, err := checkFormats(opts.Formats)
	if err != nil {
		return nil, err
	}
	var priv ed25519.PrivateKey
	var signer *Signer
	if opts.SignKey != "" {
		priv, err = ReadPrivateKey(opts.SignKey)
		if err != nil {
			return nil, err
		}
		signer = newSigner(priv.Public().(ed25519.PublicKey))
	}
	now := opts.ReportTime
	if now.IsZero() {
		now = time.Now()
	}
	inputs, err := reverifyInputs(ctx, c.Inputs)
	if err != nil {
		return nil, err
	}
	v, err := newView(c, opts, inputs, signer)
	if err != nil {
		return nil, err
	}

	b, err := openBundle(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer b.root.Close()
	// The CSV tables cite no other file of the bundle: they are written
	// beside the rest, on another core (the largest of them are most of
	// a big case's rendering). Every file is the same whatever the
	// timing; the deferred wait comes before the directory is closed,
	// on every return.
	var csvErr error
	var csvDone sync.WaitGroup
	if slices.Contains(formats, "csv") {
		csvDone.Go(func() { csvErr = renderCSV(b, v) })
	}
	defer csvDone.Wait()
	// report.json first: the PDF and STIX renderings cite its SHA-256.
	// Without the json format it is hashed, not written.
	if err := v.writeReportJSON(b, slices.Contains(formats, "json")); err != nil {
		return nil, fmt.Errorf("render json: %w", err)
	}
	for _, f := range formats {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		switch f {
		case "json", "csv":
			// Written above, and beside this loop.
		case "html":
			err = renderHTML(b, v)
		case "pdf":
			err = renderPDF(b, v)
		case "stix":
			err = renderSTIX(b, v)
		}
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", f, err)
		}
	}

	csvDone.Wait()
	if csvErr != nil {
		return nil, fmt.Errorf("render csv: %w", csvErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Custody entry: this run's inputs and every output written so far.
	outputs := b.hashes()
	entry := forensics.CustodyEntry{
		Time:        forensics.NewTime(now),
		Action:      "report",
		Args:        opts.Command,
		ToolVersion: toolString(c.Tool),
		User:        v.Examiner,
	}
	for _, in := range inputs {
		entry.Inputs = append(entry.Inputs, forensics.FileHash{Path: in.Path, Size: in.Size, SHA256: in.SHA256})
	}
	entry.Outputs = outputs
	if len(opts.Custody) > 0 {
		if err := forensics.VerifyCustody(opts.Custody); err != nil {
			return nil, fmt.Errorf("write bundle: prior custody log: %w", err)
		}
	}
	custody := append(slices.Clone(opts.Custody), forensics.ChainCustody(opts.Custody, entry)...)
	var cb bytes.Buffer
	for _, e := range custody {
		line, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		cb.Write(forensics.EscapeInvisibles(line))
		cb.WriteByte('\n')
	}
	if err := b.add(FileCustody, cb.Bytes()); err != nil {
		return nil, err
	}

	m := &Manifest{
		Schema:        ManifestSchema,
		Generated:     forensics.NewTime(now),
		Tool:          c.Tool,
		CaseID:        v.CaseID,
		Examiner:      v.Examiner,
		Organisation:  v.Organisation,
		Inputs:        inputs,
		Files:         b.hashes(),
		Signer:        signer,
		ContentSHA256: v.digest,
	}
	m.sanitize()
	mb, err := m.encode()
	if err != nil {
		return nil, err
	}
	if err := b.removeStale(); err != nil {
		return nil, err
	}
	// manifest.sig, then manifest.json last, so a bundle cut short by a
	// crash never verifies.
	if priv != nil {
		if err := b.add(FileSignature, signManifest(priv, mb)); err != nil {
			return nil, err
		}
	}
	if err := b.add(FileManifest, mb); err != nil {
		return nil, err
	}
	return m, nil
}

// sanitize makes every string valid UTF-8 (invalid bytes become U+FFFD,
// as encoding/json would write them), so that decoding and re-encoding the
// manifest gives back its exact bytes and its digest.
func (m *Manifest) sanitize() {
	v := func(s *string) { *s = strings.ToValidUTF8(*s, "\uFFFD") }
	for _, p := range []*string{&m.CaseID, &m.Examiner, &m.Organisation, &m.Tool.Name, &m.Tool.Version, &m.Tool.Commit, &m.Tool.GoVersion} {
		v(p)
	}
	for i := range m.Inputs {
		v(&m.Inputs[i].Path)
		v(&m.Inputs[i].SHA256)
	}
}

// encode sets the digest and returns the canonical bytes of m.
func (m *Manifest) encode() ([]byte, error) {
	m.Digest = ""
	body, err := marshalIndent(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	m.Digest = hex.EncodeToString(sum[:])
	return marshalIndent(m)
}

// marshalIndent is the one JSON form of bundle files: two-space indent,
// HTML characters kept raw (the evidential form), invisible characters
// escaped (forensics.EscapeInvisibles), trailing newline.
func marshalIndent(v any) ([]byte, error) { return forensics.MarshalJSON(v, "  ", false) }

func checkFormats(in []string) ([]string, error) {
	if len(in) == 0 {
		return AllFormats, nil
	}
	var out []string
	for _, f := range in {
		for p := range strings.SplitSeq(f, ",") {
			p = strings.ToLower(strings.TrimSpace(p))
			if p == "" {
				continue
			}
			if !slices.Contains(AllFormats, p) {
				return nil, fmt.Errorf("unknown report format %q (want %s)", p, strings.Join(AllFormats, ","))
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	// Fixed order, whatever the flag order.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(AllFormats, a) - slices.Index(AllFormats, b) })
	return out, nil
}

func toolString(t forensics.ToolInfo) string {
	s := t.Name + " " + t.Version
	if t.Commit != "" {
		s += " (" + t.Commit + ")"
	}
	return strings.TrimSpace(s)
}

// reverifyInputs hashes every input again, read-only. An input that can no
// longer be read is reported as unavailable, not as an error: the bundle
// says so and the examiner decides.
func reverifyInputs(ctx context.Context, inputs []forensics.Input) ([]InputCheck, error) {
	out := make([]InputCheck, 0, len(inputs))
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ic := InputCheck{Path: in.Path, Size: in.Size, SHA256: in.SHA256, Reverified: "unavailable"}
		if in.Path != "" && in.Path != "-" {
			if h, ok := hashFile(ctx, in.Path); ok {
				ic.ReverifiedHash = h
				ic.Reverified = "mismatch"
				if strings.EqualFold(h, in.SHA256) {
					ic.Reverified = "match"
					ic.ReverifiedHash = ""
				}
			}
		}
		out = append(out, ic)
	}
	return out, nil
}

func hashFile(ctx context.Context, path string) (string, bool) {
	// A FIFO or device is refused before opening (opening a FIFO waits
	// for a writer): it was never evidence that could be read again.
	f, err := evidence.OpenRegular(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// ctxReader stops a long hash when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
