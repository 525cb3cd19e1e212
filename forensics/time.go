package forensics

import (
	"fmt"
	"time"
)

// TimeLayout is the one time format of every output: RFC 3339, UTC, always
// nine fractional digits so that values sort as strings and never change
// width between runs.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// Time is a UTC instant that marshals as TimeLayout. The zero Time is
// omitted by `omitzero` tags.
type Time struct{ time.Time }

// NewTime returns t in UTC.
func NewTime(t time.Time) Time { return Time{t.UTC()} }

// String formats t with TimeLayout.
func (t Time) String() string { return t.UTC().Format(TimeLayout) }

// IsZero reports whether t is the zero instant.
func (t Time) IsZero() bool { return t.Time.IsZero() }

// MarshalText implements encoding.TextMarshaler.
func (t Time) MarshalText() ([]byte, error) {
	return t.UTC().AppendFormat(make([]byte, 0, len(TimeLayout)), TimeLayout), nil
}

// UnmarshalText accepts any RFC 3339 time.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return fmt.Errorf("parse time %q: %w", b, err)
	}
	t.Time = v.UTC()
	return nil
}

// MarshalJSON writes TimeLayout. It must exist: the embedded time.Time's
// own MarshalJSON would otherwise win over MarshalText and trim zeros.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts any RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("parse time %s: not a JSON string", b)
	}
	return t.UnmarshalText(b[1 : len(b)-1])
}
