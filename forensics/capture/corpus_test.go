package capture

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/forensics"
)

// corpusDir is ../shared/corpus relative to the repository root; tests
// that need it skip when it is absent.
func corpusDir(t testing.TB) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	dir := filepath.Join(root, "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	return dir
}

// readCorpusFile reads one capture (gunzipping .gz as the evidence layer
// would) and returns its flows sorted.
func readCorpusFile(t testing.TB, path string, opts Options) ([]forensics.Flow, Stats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	var flows []forensics.Flow
	st, err := Read(context.Background(), r, filepath.Base(path), opts, func(fl forensics.Flow) { flows = append(flows, fl) })
	SortFlows(flows)
	return flows, st, err
}

func corpusCaptures(t testing.TB) []string {
	dir := filepath.Join(corpusDir(t), "pcap")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestCorpusDump(t *testing.T) {
	if os.Getenv("CAPTURE_DUMP") == "" {
		t.Skip("set CAPTURE_DUMP=1 to print every corpus flow")
	}
	for _, p := range corpusCaptures(t) {
		flows, st, err := readCorpusFile(t, p, DefaultOptions())
		st.Problems = nil
		t.Logf("== %s err=%v stats=%+v", p, err, st)
		for _, f := range flows {
			b, _ := json.Marshal(f)
			t.Logf("%s", b)
		}
	}
}

var _ = errors.Is
