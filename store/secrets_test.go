package store_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// rawNotifiers returns every notifier row's config and secret columns as
// the database holds them.
func rawNotifiers(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT config, secret FROM notifiers`)
	must(t, err)
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var config, secret string
		must(t, rows.Scan(&config, &secret))
		fmt.Fprintf(&sb, "%s %s\n", config, secret)
	}
	must(t, rows.Err())
	return sb.String()
}

// TestNotifierService_CredentialsSealedAtRest: robot URLs (query tokens,
// hook path tokens), header values and secrets are sealed in the row; the
// engine's read gets them back in clear.
func TestNotifierService_CredentialsSealedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.NewTenant(t, db, "acme")
		p := &herald.Project{Name: "Payments"}
		must(t, db.CreateProject(ctx, p))
		notifiers := []*herald.Notifier{
			{Type: herald.NotifierDingTalk, Config: herald.NotifierConfig{URL: "https://oapi.dingtalk.com/robot/send?access_token=dt0ken5ecret"}, Secret: "SECd1ngs1gn"},
			{Type: herald.NotifierWeCom, Config: herald.NotifierConfig{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wec0mkey"}},
			{Type: herald.NotifierLark, Config: herald.NotifierConfig{URL: "https://open.feishu.cn/open-apis/bot/v2/hook/la7k-h00k"}},
			{Type: herald.NotifierSMS, Config: herald.NotifierConfig{URL: "https://sms.example.com/send",
				HTTPHeaders: map[string]string{"X-Api-Key": "sms-gw-k3y"}, MessageBody: `{"to":"{{.To}}"}`}},
			{Type: herald.NotifierEmail, Config: herald.NotifierConfig{Host: "smtp.example.com", From: "h@example.com", Username: "herald"}, Secret: "smtp-pa55"},
		}
		for i, n := range notifiers {
			n.ProjectID, n.Name = p.ID, fmt.Sprint("n", i)
			must(t, db.CreateNotifier(ctx, n))
		}
		// An update writes them sealed too.
		notifiers[3].Config.HTTPHeaders["Authorization"] = "Bearer upd4ted"
		must(t, db.UpdateNotifier(ctx, notifiers[3]))

		raw := rawNotifiers(t, db)
		for _, clear := range []string{"dt0ken5ecret", "SECd1ngs1gn", "wec0mkey", "la7k-h00k", "sms-gw-k3y", "upd4ted", "smtp-pa55"} {
			if strings.Contains(raw, clear) {
				t.Errorf("a notifier row holds %q in clear:\n%s", clear, raw)
			}
		}
		if !strings.Contains(raw, "smtp.example.com") || !strings.Contains(raw, "{{.To}}") {
			t.Errorf("the non-secret config is no longer readable in the row:\n%s", raw)
		}
		for _, want := range notifiers {
			got, err := db.FindNotifierByID(ctx, want.ID)
			must(t, err)
			if got.Config.URL != want.Config.URL || got.Secret != want.Secret || !reflect.DeepEqual(got.Config.HTTPHeaders, want.Config.HTTPHeaders) {
				t.Errorf("%s read back as %+v, want %+v", want.Type, got, want)
			}
		}
		list, _, err := db.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: p.ID}, herald.Page{})
		must(t, err)
		if len(list) != len(notifiers) || list[0].Config.URL != notifiers[0].Config.URL {
			t.Errorf("FindNotifiers = %+v", list)
		}
	})
}

// sealV1 seals like Herald before v2: "v1:" + base64(nonce || AES-GCM).
func sealV1(t *testing.T, key []byte, plain string) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	must(t, err)
	aead, err := cipher.NewGCM(block)
	must(t, err)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return "v1:" + base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), []byte("herald notifier secret")))
}

// TestNotifierService_LegacyRowsResealed: a row written before v2 (clear URL
// and headers in config, a v1 secret) reads back right, and Migrate seals
// it so the database stops holding clear credentials.
func TestNotifierService_LegacyRowsResealed(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			key := storetest.Key()
			ctx := context.Background()
			db, err := store.Open(ctx, store.Config{URL: storetest.NewURL(t, dialect), SecretKey: key})
			must(t, err)
			t.Cleanup(func() { db.Close() })
			must(t, db.Migrate(ctx))
			tctx := storetest.NewTenant(t, db, "acme")
			p := &herald.Project{Name: "Payments"}
			must(t, db.CreateProject(tctx, p))
			hook := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierWebhook, Name: "hook", Config: herald.NotifierConfig{URL: "https://placeholder.example/"}}
			robot := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierDingTalk, Name: "robot", Config: herald.NotifierConfig{URL: "https://placeholder.example/?access_token=placeholder"}}
			inbox := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierInbox, Name: "inbox"}
			for _, n := range []*herald.Notifier{hook, robot, inbox} {
				must(t, db.CreateNotifier(tctx, n))
			}
			// Rewrite the rows as an older Herald wrote them.
			legacy := []struct {
				id             int64
				config, secret string
			}{
				{hook.ID, `{"url":"https://hooks.example.com/in?token=l3gacy-t0ken","http_headers":{"X-Api-Key":"l3gacy-k3y"}}`, sealV1(t, key, "l3gacy-whsec")},
				{robot.ID, `{"url":"https://oapi.dingtalk.com/robot/send?access_token=l3gacy-dt","at_mobiles":["13800000000"]}`, ""},
				{inbox.ID, `{}`, ""},
			}
			for _, l := range legacy {
				_, err := db.SQL().Exec(fmt.Sprintf(`UPDATE notifiers SET config = '%s', secret = '%s' WHERE id = %d`, l.config, l.secret, l.id))
				must(t, err)
			}
			check := func(when string) {
				t.Helper()
				h, err := db.FindNotifierByID(tctx, hook.ID)
				must(t, err)
				if h.Config.URL != "https://hooks.example.com/in?token=l3gacy-t0ken" || h.Config.HTTPHeaders["X-Api-Key"] != "l3gacy-k3y" || h.Secret != "l3gacy-whsec" {
					t.Fatalf("%s: the legacy webhook reads back as %+v", when, h)
				}
				r, err := db.FindNotifierByID(tctx, robot.ID)
				must(t, err)
				if r.Config.URL != "https://oapi.dingtalk.com/robot/send?access_token=l3gacy-dt" || r.Secret != "" || len(r.Config.AtMobiles) != 1 {
					t.Fatalf("%s: the legacy robot reads back as %+v", when, r)
				}
				i, err := db.FindNotifierByID(tctx, inbox.ID)
				must(t, err)
				if i.Config.URL != "" || i.Secret != "" {
					t.Fatalf("%s: the inbox reads back as %+v", when, i)
				}
			}
			check("before the migration")
			if raw := rawNotifiers(t, db); !strings.Contains(raw, "l3gacy-t0ken") {
				t.Fatalf("the legacy rows were not written as legacy:\n%s", raw)
			}

			must(t, db.Migrate(ctx))
			raw := rawNotifiers(t, db)
			for _, clear := range []string{"l3gacy-t0ken", "l3gacy-k3y", "l3gacy-dt", "l3gacy-whsec"} {
				if strings.Contains(raw, clear) {
					t.Errorf("after Migrate a row still holds %q in clear:\n%s", clear, raw)
				}
			}
			check("after the migration")
			must(t, db.Migrate(ctx)) // again: nothing left to do, nothing broken
			check("after a second migration")
		})
	}
}
