package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// Credentials the notifiers below hold; no answer may show any of them.
var robotCredentials = []struct {
	typ      string
	config   map[string]any
	secret   string
	hidden   []string // what must not appear in any answer
	stillURL string   // what of the URL an answer still shows
}{
	{herald.NotifierDingTalk, map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=dt0ken5ecret"}, "SECd1ngs1gn",
		[]string{"dt0ken5ecret", "SECd1ngs1gn"}, "https://oapi.dingtalk.com/robot/send?access_token="},
	{herald.NotifierWeCom, map[string]any{"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wec0mkey-693a"}, "",
		[]string{"wec0mkey-693a"}, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="},
	{herald.NotifierLark, map[string]any{"url": "https://open.feishu.cn/open-apis/bot/v2/hook/1a2b3c4d-la7k-h00k"}, "larks1gn",
		[]string{"1a2b3c4d-la7k-h00k", "larks1gn"}, "https://open.feishu.cn/open-apis/bot/v2/hook/"},
	{herald.NotifierWebhook, map[string]any{"url": "https://hooks.example.com/in?token=wh-t0ken&team=ops",
		"http_headers": map[string]string{"Authorization": "Bearer wh-bearer-77", "X-Api-Key": "whk3y"}}, "whsec_YWJjMTIz",
		[]string{"wh-t0ken", "wh-bearer-77", "whk3y", "whsec_YWJjMTIz", "team=ops"}, "https://hooks.example.com/in?token="},
	{herald.NotifierSMS, map[string]any{"url": "https://sms.example.com/send", "http_headers": map[string]string{"X-Api-Key": "sms-gw-k3y"}}, "",
		[]string{"sms-gw-k3y"}, "https://sms.example.com/send"},
}

// TestNotifiers_ReadsHideCredentials: a token's every read of a notifier
// (get, list, the answers of create and update) shows no robot token, hook
// path token, header value or secret, yet says which are set.
func TestNotifiers_ReadsHideCredentials(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		writer := ts.newToken(ts.admin, herald.TokenCreate{Name: "ops", Permissions: []herald.Permission{herald.PermNotifiersWrite}})
		reader := ts.newToken(ts.admin, herald.TokenCreate{Name: "viewer", Permissions: []herald.Permission{herald.PermSettingsRead}})
		for _, tc := range robotCredentials {
			var answers []string
			var n herald.Notifier
			r := ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), writer,
				map[string]any{"type": tc.typ, "name": tc.typ + " robot", "config": tc.config, "secret": tc.secret}, &n)
			answers = append(answers, string(r.Body))
			for _, tok := range []string{writer, reader, ts.admin} {
				answers = append(answers, string(ts.must(200, "GET", fmt.Sprintf("/api/v1/notifiers/%d", n.ID), tok, nil, nil).Body))
				answers = append(answers, string(ts.must(200, "GET", fmt.Sprintf("/api/v1/projects/%d/notifiers?type=%s", f.Project, tc.typ), tok, nil, nil).Body))
			}
			answers = append(answers, string(ts.must(200, "PATCH", fmt.Sprintf("/api/v1/notifiers/%d", n.ID), writer, map[string]any{"name": tc.typ + " renamed"}, nil).Body))
			for _, a := range answers {
				for _, h := range tc.hidden {
					if strings.Contains(a, h) {
						t.Errorf("%s: an answer shows %q: %s", tc.typ, h, a)
					}
				}
				if !strings.Contains(a, tc.stillURL) {
					t.Errorf("%s: an answer lost the non-secret part of the URL %q: %s", tc.typ, tc.stillURL, a)
				}
			}
			// Set credentials show as the mask; an unset secret stays empty.
			var got herald.Notifier
			ts.must(200, "GET", fmt.Sprintf("/api/v1/notifiers/%d", n.ID), reader, nil, &got)
			if tc.secret != "" && got.Secret != herald.SecretMask || tc.secret == "" && got.Secret != "" {
				t.Errorf("%s: secret shown as %q", tc.typ, got.Secret)
			}
			for k, v := range got.Config.HTTPHeaders {
				if v != herald.SecretMask {
					t.Errorf("%s: header %s shown as %q, want the mask", tc.typ, k, v)
				}
			}
			// The engine's read still has every credential in clear.
			stored, err := db.FindNotifierByID(ts.ctx(ts.admin), n.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Config.URL != tc.config["url"] || stored.Secret != tc.secret {
				t.Errorf("%s: the store reads back %q %q", tc.typ, stored.Config.URL, stored.Secret)
			}
			if h, ok := tc.config["http_headers"]; ok && !reflect.DeepEqual(stored.Config.HTTPHeaders, h) {
				t.Errorf("%s: the store reads back headers %v", tc.typ, stored.Config.HTTPHeaders)
			}
		}
	})
}

// TestNotifiers_MovingACredentialNeedsIt: a notifiers:write token cannot
// point an SMTP notifier at another server (host, port or TLS mode) and have
// Herald send it the stored password; nor move a webhook whose headers or
// secret it does not supply again. Supplying the credential again is fine.
func TestNotifiers_MovingACredentialNeedsIt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		writer := ts.newToken(ts.admin, herald.TokenCreate{Name: "ops", Permissions: []herald.Permission{herald.PermNotifiersWrite}})
		var mail herald.Notifier
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), ts.admin, map[string]any{"type": "email", "name": "smtp",
			"config": map[string]any{"host": "smtp.example.com", "port": 587, "username": "herald", "from": "herald@example.com"}, "secret": "smtp-pa55"}, &mail)
		mailURL := fmt.Sprintf("/api/v1/notifiers/%d", mail.ID)
		var hook herald.Notifier
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), ts.admin, map[string]any{"type": "webhook", "name": "hook",
			"config": map[string]any{"url": "https://hooks.example.com/in?token=wh-t0ken", "http_headers": map[string]string{"X-Api-Key": "whk3y"}}}, &hook)
		hookURL := fmt.Sprintf("/api/v1/notifiers/%d", hook.ID)
		var signed herald.Notifier
		ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), ts.admin, map[string]any{"type": "dingtalk", "name": "signed",
			"config": map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=dt0ken"}, "secret": "SECsign"}, &signed)
		signedURL := fmt.Sprintf("/api/v1/notifiers/%d", signed.ID)
		before := ts.dump(ts.admin, f)

		for _, tc := range []struct {
			name, path string
			body       map[string]any
			field      string
		}{
			{"smtp host", mailURL, map[string]any{"config": map[string]any{"host": "smtp.evil.example"}}, "secret"},
			{"smtp port", mailURL, map[string]any{"config": map[string]any{"port": 2525}}, "secret"},
			{"smtp tls", mailURL, map[string]any{"config": map[string]any{"tls": "none"}}, "secret"},
			{"smtp host with the mask", mailURL, map[string]any{"config": map[string]any{"host": "smtp.evil.example"}, "secret": herald.SecretMask}, "secret"},
			{"webhook host keeping the token", hookURL, map[string]any{"config": map[string]any{"url": "https://evil.example/in?token=" + herald.SecretMask,
				"http_headers": map[string]string{"X-Api-Key": "new"}}}, "config.url"},
			{"webhook host keeping the headers", hookURL, map[string]any{"config": map[string]any{"url": "https://evil.example/in"}}, "config.http_headers"},
			{"robot host keeping the sign secret", signedURL, map[string]any{"config": map[string]any{"url": "https://evil.example/robot/send?access_token=x"}}, "secret"},
			{"a mask with nothing behind it", hookURL, map[string]any{"config": map[string]any{"http_headers": map[string]string{"X-Other": herald.SecretMask}}}, "config.http_headers"},
		} {
			r := ts.do("PATCH", tc.path, writer, tc.body)
			if r.Code != 400 {
				t.Errorf("%s: PATCH = %s, want 400", tc.name, r)
				continue
			}
			if p := r.problem(t); p.Field != tc.field {
				t.Errorf("%s: PATCH names %q, want %q (%s)", tc.name, p.Field, tc.field, p.Detail)
			}
		}
		if after := ts.dump(ts.admin, f); after != before {
			t.Fatalf("a refused PATCH changed something:\n%s\nthen\n%s", before, after)
		}
		stored, err := db.FindNotifierByID(ts.ctx(ts.admin), mail.ID)
		if err != nil || stored.Config.Host != "smtp.example.com" || stored.Config.Port != 587 || stored.Secret != "smtp-pa55" {
			t.Fatalf("refused PATCHes changed the SMTP notifier: %+v %v", stored, err)
		}

		// With the credential again, moving is fine.
		ts.must(200, "PATCH", mailURL, writer, map[string]any{"config": map[string]any{"host": "smtp2.example.com"}, "secret": "smtp-pa55"}, nil)
		ts.must(200, "PATCH", mailURL, writer, map[string]any{"config": map[string]any{"port": 465, "tls": "tls"}, "secret": "new-pa55"}, nil)
		ts.must(200, "PATCH", hookURL, writer, map[string]any{"config": map[string]any{"url": "https://hooks2.example.com/in?token=t2",
			"http_headers": map[string]string{"X-Api-Key": "k2"}}}, nil)
		ts.must(200, "PATCH", signedURL, writer, map[string]any{"config": map[string]any{"url": "https://oapi2.dingtalk.com/robot/send?access_token=x"}, "secret": "SECsign2"}, nil)
		// So is anything that keeps the destination.
		ts.must(200, "PATCH", mailURL, writer, map[string]any{"config": map[string]any{"username": "herald2", "from": "ops@example.com"}}, nil)
		ts.must(200, "PATCH", signedURL, writer, map[string]any{"config": map[string]any{"url": "https://oapi2.dingtalk.com/robot/send?access_token=y"}}, nil)
		ctx := ts.ctx(ts.admin)
		for id, want := range map[int64][3]string{
			mail.ID:   {"smtp2.example.com", "new-pa55", ""},
			hook.ID:   {"https://hooks2.example.com/in?token=t2", "", "k2"},
			signed.ID: {"https://oapi2.dingtalk.com/robot/send?access_token=y", "SECsign2", ""},
		} {
			n, err := db.FindNotifierByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			where := n.Config.URL
			if n.Type == herald.NotifierEmail {
				where = n.Config.Host
			}
			if got := [3]string{where, n.Secret, n.Config.HTTPHeaders["X-Api-Key"]}; got != want {
				t.Errorf("notifier %s after the PATCHes = %q, want %q", n.Name, got, want)
			}
		}
	})
}

// TestNotifiers_MaskedValuesKeepStoredOnes: sending back what a read
// showed (the masked URL, masked headers, masked secret) keeps the stored
// credentials; the delivery engine's read still sees them in clear.
func TestNotifiers_MaskedValuesKeepStoredOnes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		f := ts.newFixture(ts.admin)
		writer := ts.newToken(ts.admin, herald.TokenCreate{Name: "ops", Permissions: []herald.Permission{herald.PermNotifiersWrite}})
		ctx := ts.ctx(ts.admin)
		for _, tc := range robotCredentials {
			var n herald.Notifier
			ts.must(201, "POST", fmt.Sprintf("/api/v1/projects/%d/notifiers", f.Project), writer,
				map[string]any{"type": tc.typ, "name": tc.typ + " robot", "config": tc.config, "secret": tc.secret}, &n)
			want, err := db.FindNotifierByID(ctx, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			// What a GET showed, sent back whole with a new name.
			var shown map[string]any
			ts.must(200, "GET", fmt.Sprintf("/api/v1/notifiers/%d", n.ID), writer, nil, &shown)
			body := map[string]any{"name": tc.typ + " renamed", "config": shown["config"]}
			if s, ok := shown["secret"]; ok {
				body["secret"] = s
			}
			ts.must(200, "PATCH", fmt.Sprintf("/api/v1/notifiers/%d", n.ID), writer, body, nil)
			got, err := db.FindNotifierByID(ctx, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tc.typ+" renamed" || got.Config.URL != want.Config.URL || got.Secret != want.Secret ||
				!reflect.DeepEqual(got.Config.HTTPHeaders, want.Config.HTTPHeaders) {
				t.Errorf("%s: after sending back the masked values the store holds %+v, want %+v", tc.typ, got, want)
			}
		}
	})
}
