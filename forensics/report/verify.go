package report

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/tracehop/tracehop/forensics"
)

// Check is one verification step: the file it concerns, whether it
// passed, and what was found.
type Check struct {
	File   string `json:"file"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// VerifyResult lists every check Verify ran, in a fixed order.
type VerifyResult struct {
	Checks []Check `json:"checks"`
	// Signed is true when manifest.sig exists; SignerFingerprint names the
	// key it verified against.
	Signed            bool   `json:"signed"`
	SignerFingerprint string `json:"signer_fingerprint,omitempty"`
}

// OK reports whether every check passed.
func (r *VerifyResult) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failures returns the checks that failed.
func (r *VerifyResult) Failures() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *VerifyResult) add(file string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{File: file, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// maxManifest bounds what Verify reads of manifest.json into memory.
const maxManifest = 64 << 20

// Verify checks the bundle in dir: manifest.json is well-formed and its
// digest recomputes; every file it lists has the listed size and SHA-256
// and no unlisted file sits beside them; custody.jsonl's hash chain holds
// and its last entry names the bundle's outputs; and manifest.sig, if
// present, verifies — against pubKey (a PEM public key file) when given,
// else against the key the manifest names (integrity, not authenticity).
// A signature is required when pubKey is given. Failures are results, not
// errors; the error is for a directory that cannot be read at all.
func Verify(dir string, pubKey string) (*VerifyResult, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: open bundle: %w", err)
	}
	defer root.Close()
	res := &VerifyResult{}

	mb, err := readRootFile(root, FileManifest, maxManifest)
	if err != nil {
		res.add(FileManifest, false, "cannot read: %v", err)
		return res, nil
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		res.add(FileManifest, false, "not a valid manifest: %v", err)
		return res, nil
	}
	digest := m.Digest
	again, err := m.encode()
	switch {
	case err != nil:
		res.add(FileManifest, false, "cannot re-encode: %v", err)
	case m.Schema != ManifestSchema:
		res.add(FileManifest, false, "unknown schema %q", m.Schema)
	case m.Digest != digest:
		res.add(FileManifest, false, "digest does not recompute (manifest edited)")
	case !bytes.Equal(again, mb):
		res.add(FileManifest, false, "bytes differ from the canonical form (manifest edited)")
	default:
		res.add(FileManifest, true, "digest %s", digest)
	}

	// Every listed file.
	listed := map[string]bool{FileManifest: true, FileSignature: true}
	for _, f := range m.Files {
		listed[f.Path] = true
		if !fs.ValidPath(f.Path) || f.Path == "." {
			res.add(f.Path, false, "invalid path in manifest")
			continue
		}
		size, sum, err := hashRootFile(root, f.Path)
		switch {
		case err != nil:
			res.add(f.Path, false, "cannot read: %v", err)
		case size != f.Size:
			res.add(f.Path, false, "size %d, manifest says %d", size, f.Size)
		case sum != f.SHA256:
			res.add(f.Path, false, "sha256 %s, manifest says %s", sum, f.SHA256)
		default:
			res.add(f.Path, true, "sha256 %s", sum)
		}
	}
	// Unlisted files: something was added after the manifest was made.
	if entries, err := fs.ReadDir(root.FS(), "."); err == nil {
		for _, e := range entries {
			if !listed[e.Name()] {
				res.add(e.Name(), false, "not listed in the manifest")
			}
		}
	}

	verifyCustodyFile(root, &m, res)

	// Signature.
	sig, err := readRootFile(root, FileSignature, 4096)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if pubKey != "" {
			res.add(FileSignature, false, "missing: a public key was given but the bundle is not signed")
		} else if m.Signer != nil {
			res.add(FileSignature, false, "missing: the manifest names a signer")
		}
	case err != nil:
		res.add(FileSignature, false, "cannot read: %v", err)
	default:
		res.Signed = true
		var pub ed25519.PublicKey
		trusted := false
		if pubKey != "" {
			pub, err = ReadPublicKey(pubKey)
			if err != nil {
				return nil, err
			}
			trusted = true
		} else if m.Signer != nil {
			raw, err := base64.StdEncoding.DecodeString(m.Signer.PublicKey)
			if err == nil && len(raw) == ed25519.PublicKeySize {
				pub = raw
			}
		}
		switch {
		case pub == nil:
			res.add(FileSignature, false, "no usable public key (give one with --key)")
		case m.Signer != nil && m.Signer.Fingerprint != Fingerprint(pub):
			res.add(FileSignature, false, "manifest names signer %s, key given is %s", m.Signer.Fingerprint, Fingerprint(pub))
		default:
			res.SignerFingerprint = Fingerprint(pub)
			if err := checkSignature(pub, mb, sig); err != nil {
				res.add(FileSignature, false, "%v", err)
			} else if trusted {
				res.add(FileSignature, true, "valid Ed25519 signature by %s", Fingerprint(pub))
			} else {
				res.add(FileSignature, true, "valid Ed25519 signature by %s (key taken from the manifest: give --key to check who signed)", Fingerprint(pub))
			}
		}
	}
	return res, nil
}

func verifyCustodyFile(root *os.Root, m *Manifest, res *VerifyResult) {
	f, err := root.Open(FileCustody)
	if err != nil {
		res.add(FileCustody, false, "cannot read: %v", err)
		return
	}
	defer f.Close()
	var log []forensics.CustodyEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		var e forensics.CustodyEntry
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			res.add(FileCustody, false, "line %d: not a custody entry: %v", line, err)
			return
		}
		log = append(log, e)
	}
	if err := sc.Err(); err != nil {
		res.add(FileCustody, false, "line %d: %v", line+1, err)
		return
	}
	if len(log) == 0 {
		res.add(FileCustody, false, "empty custody log")
		return
	}
	if err := forensics.VerifyCustody(log); err != nil {
		res.add(FileCustody, false, "%v", err)
		return
	}
	// The last entry is the run that wrote the bundle: its outputs must be
	// the bundle's files (all but custody, manifest and signature).
	last := log[len(log)-1]
	want := slices.DeleteFunc(slices.Clone(m.Files), func(f forensics.FileHash) bool { return f.Path == FileCustody })
	if !slices.Equal(last.Outputs, want) {
		res.add(FileCustody, false, "last entry (seq %d) does not list the files of the manifest", last.Seq)
		return
	}
	res.add(FileCustody, true, "%d entries, chain intact, last %s", len(log), last.Hash)
}

func readRootFile(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

func hashRootFile(root *os.Root, name string) (int64, string, error) {
	f, err := root.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, fmt.Sprintf("%x", h.Sum(nil)), nil
}
