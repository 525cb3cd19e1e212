package forensics

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimeJSONAlwaysNineDigits(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), `"2025-07-01T00:00:00.000000000Z"`},
		{time.Date(2025, 6, 24, 9, 3, 35, 123456789, time.FixedZone("KST", 9*3600)), `"2025-06-24T00:03:35.123456789Z"`},
		{time.Date(2025, 7, 1, 0, 0, 31, 500000000, time.UTC), `"2025-07-01T00:00:31.500000000Z"`},
	} {
		b, err := json.Marshal(NewTime(tc.in))
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.in, b, err, tc.want)
		}
		var back Time
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tc.in) {
			t.Errorf("round trip %s = %v, %v", b, back, err)
		}
	}
	// inside a struct, as records use it
	b, _ := json.Marshal(struct {
		T Time `json:"t"`
	}{NewTime(time.Unix(0, 0))})
	if string(b) != `{"t":"1970-01-01T00:00:00.000000000Z"}` {
		t.Errorf("struct field: %s", b)
	}
}
