package analyze

import (
	"context"
	"os"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

func TestTmpParquetProfile(t *testing.T) {
	opts := DefaultOptions()
	opts.Inputs = []string{"/tmp/c200k.log"}
	dir := t.TempDir() + "/t"
	_, m, err := EventsParquet(context.Background(), dir, opts, forensics.ToolInfo{Name: "tracehop"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(m.Rows)
	os.RemoveAll(dir)
}
