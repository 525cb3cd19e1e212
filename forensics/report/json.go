package report

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tracehop/tracehop/forensics"
)

// SchemaVersion is the version of report.json, described by
// schema/report.schema.json. Bump the major on any incompatible change.
const SchemaVersion = "tracehop-report/1.0"

// Document is report.json: the cover fields, the derived tables and the
// whole Case. Strings are kept raw (no HTML escaping): this is the
// evidential form. It holds no wall-clock time.
type Document struct {
	SchemaVersion string          `json:"schema_version"`
	Cover         Cover           `json:"cover"`
	Inputs        []InputCheck    `json:"input_checks"`
	IPs           []IPRow         `json:"ips"`
	Relays        []Relay         `json:"relays"`
	Case          *forensics.Case `json:"case"`
}

// Cover is the cover page of every rendering.
type Cover struct {
	CaseID       string             `json:"case_id,omitempty"`
	Examiner     string             `json:"examiner,omitempty"`
	Organisation string             `json:"organisation,omitempty"`
	Tool         forensics.ToolInfo `json:"tool"`
	TLP          string             `json:"tlp"`
	Signer       *Signer            `json:"signer,omitempty"`
}

func (v *view) document() *Document {
	d := &Document{
		SchemaVersion: SchemaVersion,
		Cover: Cover{
			CaseID: v.CaseID, Examiner: v.Examiner, Organisation: v.Organisation,
			Tool: v.Case.Tool, TLP: v.TLP, Signer: v.Signer,
		},
		Inputs: v.Inputs,
		IPs:    v.IPs,
		Relays: v.Relays,
		Case:   v.Case,
	}
	if d.Inputs == nil {
		d.Inputs = []InputCheck{}
	}
	if d.IPs == nil {
		d.IPs = []IPRow{}
	}
	if d.Relays == nil {
		d.Relays = []Relay{}
	}
	return d
}

// writeReportJSON streams report.json into the bundle (write) or only
// through SHA-256 (the json format not chosen), and sets v.digest: the
// SHA-256 of report.json, printed in the PDF footer, cited by STIX and
// recorded in manifest.json whether or not report.json is written, so a
// printed page ties to the evidential form. (The manifest's own hash
// cannot be printed in a file the manifest lists.)
func (v *view) writeReportJSON(b *bundle, write bool) error {
	h := sha256.New()
	if !write {
		if err := writeDocument(h, v.document()); err != nil {
			return err
		}
		v.digest = hex.EncodeToString(h.Sum(nil))
		return nil
	}
	w, err := b.create(FileReportJSON)
	if err != nil {
		return err
	}
	if err := writeDocument(w, v.document()); err != nil {
		w.abort()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	v.digest = b.hashOf(FileReportJSON).SHA256
	return nil
}
