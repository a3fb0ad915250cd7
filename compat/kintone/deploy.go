package kintone

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/heraldhq/herald"
)

// maxDeployApps is how many apps one deploy or status request may name.
const maxDeployApps = 300

// statusSuccess is the only deploy status answered: deploys here are
// synchronous, so an existing app's last deploy has always finished (a
// failed one changed nothing and answered its error). Kintone's other
// statuses, PROCESSING, FAIL and CANCEL, never occur.
const statusSuccess = "SUCCESS"

// deployStatus is one app of the deploy status answer.
type deployStatus struct {
	App    string `json:"app"`
	Status string `json:"status"`
}

// handleDeploy deploys (or with revert, discards) the pre-live settings of
// every app listed: all of them or none.
func (s *Surface) handleDeploy(w http.ResponseWriter, r *http.Request) error {
	m, err := readBody(w, r)
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	revert, _ := optionalBool(fe, "revert", m["revert"], false)
	var (
		items []map[string]json.RawMessage
		apps  []string
		revs  []int64
	)
	switch {
	case !present(m["apps"]):
		fe.add("apps", msgRequired)
	case json.Unmarshal(m["apps"], &items) != nil:
		fe.add("apps", "Enter an array of objects.")
	case len(items) == 0:
		fe.add("apps", msgRequired)
	case len(items) > maxDeployApps:
		fe.add("apps", fmt.Sprintf("Enter at most %d apps.", maxDeployApps))
	default:
		for i, item := range items {
			f := fmt.Sprintf("apps[%d]", i)
			if item == nil {
				fe.add(f, "Enter an object.")
				continue
			}
			app := appID(fe, f+".app", item["app"])
			rev := revision(fe, f+".revision", item["revision"])
			if app == "" {
				continue
			}
			if j := slices.Index(apps, app); j >= 0 {
				fe.add(f+".app", fmt.Sprintf("The same app as apps[%d].", j))
				continue
			}
			apps, revs = append(apps, app), append(revs, rev)
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	refs := make([]herald.SettingsRef, len(apps))
	for i, app := range apps {
		src, err := s.findApp(r, app)
		if err != nil {
			return err
		}
		refs[i] = herald.SettingsRef{Scope: scopeOf(src), Revision: revs[i]}
	}
	if _, err := s.Settings.DeploySettings(r.Context(), refs, revert); err != nil {
		if herald.ErrorCode(err) == herald.ECONFLICT {
			return staleRevision(s.staleApp(r, apps, refs))
		}
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// staleApp names the app whose revision failed the deploy, for the error
// message (the first that names a revision when it cannot tell).
func (s *Surface) staleApp(r *http.Request, apps []string, refs []herald.SettingsRef) string {
	first := ""
	for i, ref := range refs {
		if ref.Revision == herald.NoRevisionCheck {
			continue
		}
		if first == "" {
			first = apps[i]
		}
		st, err := s.Settings.FindSettings(r.Context(), ref.Scope, herald.VersionDraft)
		if err == nil && st.Revision != ref.Revision {
			return apps[i]
		}
	}
	return first
}

var reAppsIndex = regexp.MustCompile(`^apps\[([0-9]{1,3})\]$`)

// handleDeployStatus answers the deploy status of the apps listed in the
// query (apps[0]=N&apps[1]=M, or apps=N&apps=M) or in a JSON body.
func (s *Surface) handleDeployStatus(w http.ResponseWriter, r *http.Request) error {
	m, err := readBody(w, r)
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	fields := []string{}
	q := r.URL.Query()
	indexed := map[int]string{}
	for k, vs := range q {
		if sub := reAppsIndex.FindStringSubmatch(k); sub != nil && len(vs) > 0 {
			i, _ := strconv.Atoi(sub[1])
			indexed[i] = vs[0]
		}
	}
	for _, i := range slices.Sorted(maps.Keys(indexed)) {
		b, _ := json.Marshal(indexed[i])
		raws, fields = append(raws, b), append(fields, fmt.Sprintf("apps[%d]", i))
	}
	for _, v := range q["apps"] {
		b, _ := json.Marshal(v)
		raws, fields = append(raws, b), append(fields, fmt.Sprintf("apps[%d]", len(fields)))
	}
	fe := fieldErrors{}
	if len(raws) == 0 && present(m["apps"]) {
		if err := json.Unmarshal(m["apps"], &raws); err != nil {
			fe.add("apps", "Enter an array of app ids.")
		}
		for i := range raws {
			fields = append(fields, fmt.Sprintf("apps[%d]", i))
		}
	}
	switch {
	case len(fe) > 0:
	case len(raws) == 0:
		fe.add("apps", msgRequired)
	case len(raws) > maxDeployApps:
		fe.add("apps", fmt.Sprintf("Enter at most %d apps.", maxDeployApps))
	}
	if err := fe.err(); err != nil {
		return err
	}
	apps := make([]string, len(raws))
	for i, raw := range raws {
		apps[i] = appID(fe, fields[i], raw)
	}
	if err := fe.err(); err != nil {
		return err
	}
	out := struct {
		Apps []deployStatus `json:"apps"`
	}{Apps: make([]deployStatus, 0, len(apps))}
	for _, app := range apps {
		if _, err := s.findApp(r, app); err != nil {
			return err
		}
		out.Apps = append(out.Apps, deployStatus{App: app, Status: statusSuccess})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
