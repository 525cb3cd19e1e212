package main

import (
	"io"

	"github.com/tracehop/tracehop/forensics"
)

// writeJSON writes v as a json.Encoder with HTML escaping off and the
// given indent writes it, with the invisible characters escaped
// (forensics.EscapeInvisibles): evidence and database strings reach the
// terminal through it.
func writeJSON(w io.Writer, v any, indent string) error {
	return writeJSONHTML(w, v, indent, false)
}

// writeJSONHTML is writeJSON with HTML escaping chosen.
func writeJSONHTML(w io.Writer, v any, indent string, escapeHTML bool) error {
	b, err := forensics.MarshalJSON(v, indent, escapeHTML)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
