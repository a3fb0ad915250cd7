package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The README's quickstart is kept in docs/quickstart.sh (the CLI) and
// docs/quickstart-curl.sh (curl and jq); the README includes both
// verbatim, and these tests run them, as written, against a fresh server
// with a webhook receiver on 127.0.0.1.

var quickstarts = []string{"../../docs/quickstart.sh", "../../docs/quickstart-curl.sh"}

// quickstartSecret is the webhook secret the quickstart configures.
const quickstartSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestQuickstart_READMEIncludesTheScripts(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range quickstarts {
		script, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```sh\n"+string(script)+"```\n") {
			t.Errorf("README.md does not include %s verbatim in a ```sh block: copy it again", path)
		}
	}
}

func TestQuickstart_CLI(t *testing.T) {
	t.Parallel()
	out := runQuickstart(t, quickstarts[0])
	if n := strings.Count(out, `"status": "delivered"`); n != 2 {
		t.Fatalf("the quickstart shows %d delivered deliveries, want 2 (inbox and webhook):\n%s", n, out)
	}
}

func TestQuickstart_Curl(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the curl quickstart needs %s, which .ci/run installs", tool)
			}
			t.Skipf("the curl quickstart needs %s", tool)
		}
	}
	out := runQuickstart(t, quickstarts[1])
	if n := strings.Count(out, `"status":"delivered"`); n != 2 {
		t.Fatalf("the quickstart shows %d delivered deliveries, want 2 (inbox and webhook):\n%s", n, out)
	}
}

// runQuickstart runs script with bash against a new server, as the README
// says (HERALD_URL, HERALD_TOKEN, WEBHOOK_URL exported, herald on PATH),
// checks that the webhook received one signed message, and returns what
// the script printed.
func runQuickstart(t *testing.T, script string) string {
	t.Helper()
	var (
		mu   sync.Mutex
		hits []error
	)
	wh, err := standardwebhooks.NewWebhook(quickstartSecret)
	if err != nil {
		t.Fatal(err)
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, wh.Verify(body, r.Header))
		mu.Unlock()
	}))
	defer sink.Close()

	base, lines := serveLines(t, "HERALD_ALLOW_PRIVATE_TARGETS=true")
	token := reToken.FindString(strings.Join(lines, "\n"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", abs)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HERALD_URL="+base, "HERALD_TOKEN="+token, "WEBHOOK_URL="+sink.URL+"/herald")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash %s: %v\n%s", script, err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 1 || hits[0] != nil {
		t.Fatalf("the webhook received %d messages (signature checks %v), want 1 signed one", len(hits), hits)
	}
	return string(out)
}
