// Package browsertest starts the headless Chromium that the console's and
// the embedded inbox's browser tests drive.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian installs Chromium (.ci/run installs it).
const ChromiumPath = "/usr/bin/chromium"

// Need skips the test when Chromium is missing, and fails it under
// CI=true, where every browser test must run.
func Need(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: under CI=true the browser tests must run (%v)", ChromiumPath, err)
		}
		t.Skipf("%s is missing: %v", ChromiumPath, err)
	}
}

// New starts a headless Chromium with a throwaway profile and a window of
// width × height, closed when the test ends.
func New(t testing.TB, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser, which lives as long as its
	// context: no timeout on it; each step has its own.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
