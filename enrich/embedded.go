package enrich

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// The embedded default data, written by `make geodata`
// (enrich/internal/geodata): zstd-compressed MaxMind DB files, the
// manifest naming their origin, licence and attribution, and the
// hosting-ASN list.
//
//go:embed data/manifest.json data/*.mmdb.zst data/hosting-asns.txt
var embeddedFS embed.FS

// embeddedFile is one entry of data/manifest.json.
type embeddedFile struct {
	File        string `json:"file"`        // compressed file in data/
	Name        string `json:"name"`        // original file name (selects the mapping)
	Role        string `json:"role"`        // country, registered_country or asn
	Origin      string `json:"origin"`      // npm package@version and file
	Licence     string `json:"licence"`     // SPDX identifier
	Attribution string `json:"attribution"` // text every report carries
	SHA256      string `json:"sha256"`      // of the decompressed database
	Size        int64  `json:"size"`        // decompressed size in bytes
}

// maxEmbeddedSize bounds decompression of embedded data (a corrupted
// build must not exhaust memory).
const maxEmbeddedSize = 256 << 20

func readManifest() ([]embeddedFile, error) {
	b, err := embeddedFS.ReadFile("data/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("embedded data: %w", err)
	}
	var files []embeddedFile
	if err := json.Unmarshal(b, &files); err != nil {
		return nil, fmt.Errorf("embedded data: manifest: %w", err)
	}
	return files, nil
}

// openEmbedded decompresses and opens the embedded databases in their
// lookup order, checking each against the hash in the manifest.
func openEmbedded() ([]*database, *hostingList, error) {
	files, err := readManifest()
	if err != nil {
		return nil, nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxEmbeddedSize))
	if err != nil {
		return nil, nil, err
	}
	defer dec.Close()
	var dbs []*database
	fail := func(err error) ([]*database, *hostingList, error) {
		for _, db := range dbs {
			db.close()
		}
		return nil, nil, err
	}
	for _, f := range files {
		z, err := embeddedFS.ReadFile("data/" + f.File)
		if err != nil {
			return fail(fmt.Errorf("embedded data: %w", err))
		}
		if f.Size <= 0 || f.Size > maxEmbeddedSize {
			return fail(fmt.Errorf("embedded data %s: size %d out of bounds", f.File, f.Size))
		}
		dec.Reset(bytes.NewReader(z))
		var bb bytes.Buffer
		bb.Grow(int(f.Size) + bytes.MinRead) // the manifest's size: one allocation
		_, err = bb.ReadFrom(io.LimitReader(dec, maxEmbeddedSize))
		buf := bb.Bytes()
		if err != nil {
			return fail(fmt.Errorf("embedded data %s: %w", f.File, err))
		}
		sum := sha256.Sum256(buf)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			return fail(fmt.Errorf("embedded data %s: sha256 %s, manifest says %s", f.File, got, f.SHA256))
		}
		db, err := openBytes(buf, f.SHA256, f.Name, "", DefaultMappings())
		if err != nil {
			return fail(err)
		}
		db.info.Embedded = true
		db.info.Attribution = f.Attribution
		db.info.Origin = f.Origin
		db.info.Licence = f.Licence
		dbs = append(dbs, db)
	}
	hb, err := embeddedFS.ReadFile("data/hosting-asns.txt")
	if err != nil {
		return fail(fmt.Errorf("embedded data: %w", err))
	}
	hl, err := parseHostingList(hb)
	if err != nil {
		return fail(fmt.Errorf("embedded data: %w", err))
	}
	return dbs, hl, nil
}

// EmbeddedDatabases describes the default data compiled into the binary
// (what `tracehop version` prints), with the attribution text the
// licences require. It opens the data to read each build's metadata.
func EmbeddedDatabases() []DatabaseInfo {
	dbs, hl, err := openEmbedded()
	if err != nil {
		return []DatabaseInfo{{Name: "embedded data", Type: "error", Attribution: err.Error()}}
	}
	out := make([]DatabaseInfo, 0, len(dbs)+1)
	for _, db := range dbs {
		out = append(out, db.info)
		db.close()
	}
	return append(out, hl.info)
}
