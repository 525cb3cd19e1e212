package report

import (
	"context"
	"os"
	"testing"
)

func TestGenTmp7(t *testing.T) {
	dir := os.Getenv("GEN7_OUT")
	if dir == "" {
		t.Skip()
	}
	if _, err := WriteBundle(context.Background(), testCase(os.Getenv("GEN7_HOSTILE") != ""), Options{OutDir: dir, ReportTime: pinned, Organisation: "Korean National Police Agency"}); err != nil {
		t.Fatal(err)
	}
}

func TestTmp7Load(t *testing.T) {
	f := os.Getenv("GEN7_HTML")
	if f == "" {
		t.Skip()
	}
	rep, png := loadInChromium(t, f)
	t.Logf("requests %v errors %v dialogs %v", rep.Requests, rep.Errors, rep.Dialogs)
	d := rep.DOM
	delete(d, "text")
	t.Logf("dom %v", d)
	os.WriteFile("/tmp/shot7demo.png", png, 0o644)
}
