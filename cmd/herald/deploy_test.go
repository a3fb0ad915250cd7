package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The deployment files under deploy/ parse, name only real settings, and
// keep the promises the files make: PostgreSQL with two nodes sharing one
// database and key, non-root and read-only containers, probes on /healthz,
// a hardened systemd unit.

// settingEnvNames is every environment variable the command heeds.
func settingEnvNames() map[string]bool {
	out := map[string]bool{configEnv: true}
	for name := range settingFlags(NewRootCommand(io.Discard, io.Discard)) {
		out[envName(name)] = true
	}
	return out
}

// yamlDocs parses every document of a YAML file into generic maps.
func yamlDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s holds no document", file)
	}
	return docs
}

// dig walks maps and lists by keys and indexes; nil where a step is absent.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestDeploy_Compose(t *testing.T) {
	t.Parallel()
	doc := yamlDocs(t, "../../deploy/compose.yaml")[0]
	known := settingEnvNames()
	services, _ := doc["services"].(map[string]any)
	if dig(services, "postgres", "image") == nil {
		t.Fatal("no postgres service")
	}
	var nodes []string
	urls, keys, ports := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for name, s := range services {
		env, _ := dig(s, "environment").(map[string]any)
		for k := range env {
			if strings.HasPrefix(k, "HERALD_") && !known[k] {
				t.Errorf("service %s sets %s, which is no setting", name, k)
			}
		}
		cmd, _ := dig(s, "command").([]any)
		if !slices.Equal(cmd, []any{"serve"}) {
			continue
		}
		nodes = append(nodes, name)
		urls[env["HERALD_DATABASE_URL"].(string)] = true
		keys[env["HERALD_SECRET_KEY"].(string)] = true
		for _, p := range dig(s, "ports").([]any) {
			ports[p.(string)] = true
		}
		if dig(s, "read_only") != true || !slices.Contains(dig(s, "cap_drop").([]any), any("ALL")) {
			t.Errorf("node %s: want read_only and cap_drop ALL", name)
		}
		if dig(s, "depends_on", "migrate", "condition") != "service_completed_successfully" {
			t.Errorf("node %s does not wait for the migration", name)
		}
		if !strings.HasSuffix(dig(s, "volumes", 0).(string), ":/data") {
			t.Errorf("node %s keeps no /data volume", name)
		}
	}
	if len(nodes) != 2 || len(ports) != 2 {
		t.Fatalf("serve nodes %v on ports %v; want two on two ports", nodes, ports)
	}
	if len(urls) != 1 || !strings.HasPrefix(firstKey(urls), "postgres://") || !strings.Contains(firstKey(urls), "@postgres:5432/") {
		t.Errorf("nodes use database URLs %v; want one postgres:// URL to the postgres service", urls)
	}
	if len(keys) != 1 || !strings.Contains(firstKey(keys), ":?") {
		t.Errorf("nodes use secret keys %v; want one, required from the environment", keys)
	}
	if cmd := dig(services, "migrate", "command"); !slices.Equal(cmd.([]any), []any{"migrate", "up"}) {
		t.Errorf("migrate service runs %v", cmd)
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

func TestDeploy_Kubernetes(t *testing.T) {
	t.Parallel()
	known := settingEnvNames()
	files, err := filepath.Glob("../../deploy/k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	kinds := map[string]map[string]any{}
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			kind, _ := d["kind"].(string)
			if kind == "" || d["apiVersion"] == nil {
				t.Errorf("%s: a document without kind or apiVersion", f)
			}
			kinds[kind] = d
		}
	}
	for _, kind := range []string{"Deployment", "Service", "Job", "Secret", "Kustomization", "PodDisruptionBudget"} {
		if kinds[kind] == nil {
			t.Errorf("no %s", kind)
		}
	}
	// Every resource kustomization.yaml lists exists.
	for _, r := range dig(kinds["Kustomization"], "resources").([]any) {
		if _, err := os.Stat(filepath.Join("../../deploy/k8s", r.(string))); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
		}
	}

	pods := map[string]any{"Deployment": dig(kinds["Deployment"], "spec", "template", "spec"), "Job": dig(kinds["Job"], "spec", "template", "spec")}
	for kind, pod := range pods {
		if dig(pod, "securityContext", "runAsNonRoot") != true || dig(pod, "securityContext", "runAsUser") != 65532 {
			t.Errorf("%s: pod securityContext %v; want runAsNonRoot, user 65532", kind, dig(pod, "securityContext"))
		}
		c := dig(pod, "containers", 0)
		sc := dig(c, "securityContext")
		if dig(sc, "readOnlyRootFilesystem") != true || dig(sc, "allowPrivilegeEscalation") != false || !slices.Equal(dig(sc, "capabilities", "drop").([]any), []any{"ALL"}) {
			t.Errorf("%s: container securityContext %v; want a read-only root, no escalation, no capabilities", kind, sc)
		}
		env := map[string]any{}
		for _, e := range dig(c, "env").([]any) {
			n := dig(e, "name").(string)
			if !known[n] {
				t.Errorf("%s sets %s, which is no setting", kind, n)
			}
			env[n] = e
		}
		for _, secret := range []string{"HERALD_DATABASE_URL", "HERALD_SECRET_KEY"} {
			if dig(env[secret], "valueFrom", "secretKeyRef", "name") != "herald" {
				t.Errorf("%s: %s does not come from the Secret herald", kind, secret)
			}
		}
	}
	dep := kinds["Deployment"]
	if dig(dep, "spec", "replicas") != 2 {
		t.Errorf("replicas %v, want 2", dig(dep, "spec", "replicas"))
	}
	c := dig(pods["Deployment"], "containers", 0)
	if dig(c, "livenessProbe", "httpGet", "path") != "/healthz" || dig(c, "startupProbe", "httpGet", "path") != "/healthz" || dig(c, "readinessProbe", "httpGet", "path") != "/readyz" {
		t.Errorf("probes: liveness and startup on /healthz, readiness on /readyz wanted")
	}
	if dig(c, "ports", 0, "containerPort") != 8080 || dig(c, "ports", 0, "name") != "http" {
		t.Errorf("container port %v", dig(c, "ports"))
	}
	for _, e := range dig(c, "env").([]any) {
		if dig(e, "name") == "HERALD_ADDR" && dig(e, "value") != ":8080" {
			t.Errorf("HERALD_ADDR %v does not match the container port", dig(e, "value"))
		}
	}
	mounts := map[string]bool{}
	for _, m := range dig(c, "volumeMounts").([]any) {
		mounts[dig(m, "mountPath").(string)] = true
	}
	if !mounts["/data"] || !mounts["/tmp"] {
		t.Errorf("mounts %v; a read-only root needs /data and /tmp", mounts)
	}
	svc := kinds["Service"]
	if dig(svc, "spec", "ports", 0, "targetPort") != "http" || dig(svc, "spec", "selector", "app.kubernetes.io/component") != "server" {
		t.Errorf("the Service does not reach the server pods' http port")
	}
}

func TestDeploy_SystemdUnit(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../deploy/herald.service")
	if err != nil {
		t.Fatal(err)
	}
	known := settingEnvNames()
	set := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("line %q is no key=value", line)
			continue
		}
		set[k] = append(set[k], v)
	}
	for k, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "CapabilityBoundingSet": "",
		"ProtectHome": "yes", "DynamicUser": "yes", "StateDirectory": "herald", "RestrictSUIDSGID": "yes",
	} {
		if !slices.Equal(set[k], []string{want}) {
			t.Errorf("%s=%q, want %q", k, set[k], want)
		}
	}
	for _, e := range set["Environment"] {
		if n, _, _ := strings.Cut(e, "="); !known[n] {
			t.Errorf("Environment=%s sets no setting", e)
		}
	}
	if !strings.Contains(set["ExecStart"][0], " serve ") {
		t.Errorf("ExecStart=%s does not serve", set["ExecStart"][0])
	}

	// systemd's own check, where it is installed, on a copy that starts
	// the binary TestMain built.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit := filepath.Join(t.TempDir(), "herald.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(raw, []byte("/usr/local/bin/herald"), []byte(binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte(unit)) {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
