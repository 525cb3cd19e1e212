package report

import "github.com/tracehop/tracehop/forensics"

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

// reportJSON returns the bytes of report.json, made once per bundle.
func (v *view) reportJSON() ([]byte, error) {
	if v.json == nil {
		data, err := marshalIndent(v.document())
		if err != nil {
			return nil, err
		}
		v.json = data
	}
	return v.json, nil
}

// contentDigest is the SHA-256 of report.json: printed in the PDF footer
// and recorded in manifest.json, whether or not report.json is written,
// so a printed page ties to the evidential form. (The manifest's own hash
// cannot be printed in a file the manifest lists.)
func (v *view) contentDigest() (string, error) {
	data, err := v.reportJSON()
	if err != nil {
		return "", err
	}
	return sha256Hex(data), nil
}

func renderJSON(b *bundle, v *view) error {
	data, err := v.reportJSON()
	if err != nil {
		return err
	}
	b.add(FileReportJSON, data)
	return nil
}
