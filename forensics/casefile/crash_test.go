package casefile

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

const crashChildEnv = "TRACEHOP_CASEFILE_CRASH_CHILD"

// Inputs the crash child adds, in order: big enough that a kill lands
// inside a transaction most of the time.
const (
	crashInputs = 24
	crashEvents = 6000
	crashFlows  = 1000
)

// TestMain lets the test binary act as the child of TestCrashSafety.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild adds the crash inputs the case lacks, printing each SHA-256
// once its transaction has committed.
func crashChild(path string) int {
	ctx := context.Background()
	f, err := Open(ctx, path, OpenOptions{Write: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	for i := range crashInputs {
		if ok, err := f.HasEvidence(ctx, testBatch(uint64(100+i), 0, 0).Input.SHA256); err != nil || ok {
			continue // what a re-run of `case add` does before reading an input
		}
		b := testBatch(uint64(100+i), crashEvents, crashFlows)
		e := testEntry("ingest")
		b.Custody = &e
		if _, err := f.AddEvidence(ctx, b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("committed %s\n", b.Input.SHA256)
	}
	fmt.Println("done")
	return 0
}

// TestCrashSafety kills a child adding inputs with SIGKILL at random
// points. After each kill the case must open, pass PRAGMA integrity_check,
// hold every input the child reported committed, each complete, and no
// input twice; running the child again must complete the rest.
func TestCrashSafety(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL")
	}
	if testing.Short() {
		t.Skip("kills child processes for a few seconds")
	}
	ctx := context.Background()
	path, f := newTestCase(t)
	f.Close()
	want := map[string]int{} // sha → input index
	for i := range crashInputs {
		want[testBatch(uint64(100+i), 0, 0).Input.SHA256] = i
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for round := 0; round < 8; round++ {
		committed, finished := runCrashChild(t, path, time.Duration(30+rng.IntN(400))*time.Millisecond)
		have := checkCrashCase(t, ctx, path, want)
		for _, sha := range committed {
			if !have[sha] {
				t.Fatalf("round %d: input %s reported committed is missing", round, sha[:12])
			}
		}
		t.Logf("round %d: %d inputs in the case, child reported %d this round, finished=%v", round, len(have), len(committed), finished)
		if finished {
			break
		}
		kills++
	}
	if kills == 0 {
		t.Error("the child was never killed: the test tested nothing")
	}
	// The re-run completes the rest.
	if _, finished := runCrashChild(t, path, time.Minute); !finished {
		t.Fatal("the final run did not finish")
	}
	if have := checkCrashCase(t, ctx, path, want); len(have) != crashInputs {
		t.Errorf("after the re-run the case holds %d of %d inputs", len(have), crashInputs)
	}
}

// runCrashChild runs the child and kills it after d (unless it finished
// first); it returns the SHA-256s the child reported committed.
func runCrashChild(t *testing.T, path string, d time.Duration) (committed []string, finished bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() }) // SIGKILL
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if sha, ok := strings.CutPrefix(line, "committed "); ok {
			committed = append(committed, sha)
		}
		if line == "done" {
			finished = true
			timer.Stop()
		}
	}
	err = cmd.Wait()
	timer.Stop()
	// A kill that lands between "done" and the exit (closing the case)
	// is one more crash point, not a failure: the caller checks the case.
	if finished && err != nil && !strings.Contains(fmt.Sprint(err), "killed") {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if !finished && !strings.Contains(fmt.Sprint(err), "killed") {
		t.Fatalf("child ended without being killed: %v\n%s", err, stderr.String())
	}
	return committed, finished
}

// checkCrashCase opens the case after a kill and checks it is whole.
func checkCrashCase(t *testing.T, ctx context.Context, path string, want map[string]int) map[string]bool {
	t.Helper()
	f, err := Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer f.Close()
	if err := f.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := f.Evidence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for i, it := range items {
		if have[it.SHA256] {
			t.Fatalf("input %s stored twice", it.SHA256[:12])
		}
		have[it.SHA256] = true
		// Inputs are added in order: the case holds a prefix of them.
		if idx, ok := want[it.SHA256]; !ok || idx != i {
			t.Fatalf("evidence #%d is input %d", i, idx)
		}
	}
	sum, err := f.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != int64(len(items)*crashEvents) || sum.Flows != int64(len(items)*crashFlows) {
		t.Fatalf("%d inputs but %d events and %d flows: an input is partly stored", len(items), sum.Events, sum.Flows)
	}
	// One case-new entry plus one entry per stored input, no more.
	if sum.Custody != int64(1+len(items)) {
		t.Fatalf("%d custody entries for %d inputs", sum.Custody, len(items))
	}
	if _, err := f.VerifyCustody(ctx); err != nil {
		t.Fatal(err)
	}
	return have
}
