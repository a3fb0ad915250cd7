package codeartsdeploy_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// TestMessages_CredentialsMasked: GET shows robot URLs with their tokens
// masked and webhook header values masked; writing GET's answer back keeps
// the stored credentials, which the engine still reads in clear.
func TestMessages_CredentialsMasked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		b.ok(t, "POST", roundTrip)
		stored := func() map[string]*herald.Notifier {
			ns, _, err := db.FindNotifiers(b.ctx, herald.NotifierFilter{ProjectID: b.project.ID}, herald.Page{})
			must(t, err)
			out := map[string]*herald.Notifier{}
			for _, n := range ns {
				out[n.Type] = n
			}
			return out
		}
		before := stored()
		if before[herald.NotifierDingTalk].Config.URL != "https://oapi.dingtalk.com/robot/send?access_token=abc" ||
			before[herald.NotifierWebhook].Config.HTTPHeaders["X-Token"] != "t1" {
			t.Fatalf("the POST did not store the credentials: %+v", before)
		}
		got := b.ok(t, "GET", "")
		raw, err := json.Marshal(got)
		must(t, err)
		for _, clear := range []string{"access_token=abc", "key=k\"", "X-Token: t1", "SECding"} {
			if strings.Contains(string(raw), clear) {
				t.Errorf("GET shows %q: %s", clear, raw)
			}
		}
		byType := map[string]map[string]any{}
		for _, it := range got {
			m := it.(map[string]any)
			byType[m["msg_type"].(string)] = m
		}
		if u := byType["dingtalk"]["send_url"]; u != "https://oapi.dingtalk.com/robot/send?access_token="+herald.SecretMask {
			t.Errorf("dingtalk send_url = %v", u)
		}
		if u := byType["wechat"]["send_url"]; u != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="+herald.SecretMask {
			t.Errorf("wechat send_url = %v", u)
		}
		if h := byType["webhook"]["http_headers"]; !reflect.DeepEqual(h, []any{"Content-Type: " + herald.SecretMask, "X-Token: " + herald.SecretMask}) {
			t.Errorf("webhook http_headers = %v", h)
		}

		b.ok(t, "POST", string(raw))
		after := stored()
		for typ, want := range before {
			got := after[typ]
			if got == nil || got.Config.URL != want.Config.URL || got.Secret != want.Secret || !reflect.DeepEqual(got.Config.HTTPHeaders, want.Config.HTTPHeaders) {
				t.Errorf("%s after writing GET's answer back: %+v, want %+v", typ, got, want)
			}
		}
	})
}
