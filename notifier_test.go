package herald_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

const mask = herald.SecretMask

func TestNotifier_Redacted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"dingtalk access_token", "https://oapi.dingtalk.com/robot/send?access_token=abc123", "https://oapi.dingtalk.com/robot/send?access_token=" + mask},
		{"wecom key", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a-91f6", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + mask},
		{"every query value, in order", "https://h.example/x?z=1&sign=s&timestamp=2&flag", "https://h.example/x?z=" + mask + "&sign=" + mask + "&timestamp=" + mask + "&" + mask},
		{"empty values stay empty", "https://h.example/x?a=&b", "https://h.example/x?a=&" + mask},
		{"feishu hook token", "https://open.feishu.cn/open-apis/bot/v2/hook/1a2b-3c4d", "https://open.feishu.cn/open-apis/bot/v2/hook/" + mask},
		{"lark hook token", "https://open.larksuite.com/open-apis/bot/v2/hook/1a2b", "https://open.larksuite.com/open-apis/bot/v2/hook/" + mask},
		{"slack hook path", "https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/services/" + mask},
		{"discord hook path", "https://discord.com/api/webhooks/1/tok", "https://discord.com/api/webhooks/" + mask},
		{"slack-like path elsewhere is not a token", "https://example.com/services/notify", "https://example.com/services/notify"},
		{"userinfo password", "https://bot:p4ss@h.example:8443/in", "https://bot:" + mask + "@h.example:8443/in"},
		{"lone userinfo name", "https://t0ken@h.example/in", "https://" + mask + "@h.example/in"},
		{"no credential", "https://hooks.example.com/x", "https://hooks.example.com/x"},
		{"not a URL", "::::", mask},
		{"unset", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := &herald.Notifier{Type: herald.NotifierWebhook, Config: herald.NotifierConfig{URL: tc.url}}
			r := n.Redacted()
			if r.Config.URL != tc.want {
				t.Fatalf("Redacted URL = %q, want %q", r.Config.URL, tc.want)
			}
			if again := r.Redacted(); again.Config.URL != r.Config.URL {
				t.Fatalf("Redacted is not idempotent: %q then %q", r.Config.URL, again.Config.URL)
			}
			if n.Config.URL != tc.url {
				t.Fatalf("Redacted changed the original: %q", n.Config.URL)
			}
		})
	}

	n := &herald.Notifier{Type: herald.NotifierWebhook, Name: "hook", Secret: "whsec",
		Config: herald.NotifierConfig{URL: "https://h.example/x", HTTPHeaders: map[string]string{"Authorization": "Bearer k", "X-Empty": ""}, AtMobiles: []string{"1"}}}
	r := n.Redacted()
	if r.Secret != mask || r.Name != "hook" || !reflect.DeepEqual(r.Config.HTTPHeaders, map[string]string{"Authorization": mask, "X-Empty": ""}) {
		t.Fatalf("Redacted = %+v", r)
	}
	r.Config.HTTPHeaders["Authorization"], r.Config.AtMobiles[0] = "changed", "2"
	if n.Config.HTTPHeaders["Authorization"] != "Bearer k" || n.Secret != "whsec" || n.Config.AtMobiles[0] != "1" {
		t.Fatalf("the copy shares the original's state: %+v", n)
	}
	if (&herald.Notifier{}).Redacted().Secret != "" {
		t.Fatal("an unset secret shows as set")
	}
	// JSON, whichever path it takes, redacts too.
	for _, v := range []any{n, *n, []*herald.Notifier{n}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "whsec") || strings.Contains(string(b), "Bearer k") {
			t.Fatalf("JSON shows a credential: %s", b)
		}
	}
	// The engine reads the struct: it still has everything.
	if n.Config.HTTPHeaders["Authorization"] != "Bearer k" {
		t.Fatal("marshalling changed the notifier")
	}
}

func TestNotifier_MergeStored(t *testing.T) {
	t.Parallel()
	smtp := func(host string, port int, tls, secret string) *herald.Notifier {
		return &herald.Notifier{Type: herald.NotifierEmail, Secret: secret, Config: herald.NotifierConfig{Host: host, Port: port, TLS: tls, From: "h@example.com"}}
	}
	hook := func(url, secret string, headers map[string]string) *herald.Notifier {
		return &herald.Notifier{Type: herald.NotifierWebhook, Secret: secret, Config: herald.NotifierConfig{URL: url, HTTPHeaders: headers}}
	}
	for _, tc := range []struct {
		name      string
		next, old *herald.Notifier
		field     string           // the refusal's field, "" for none
		want      *herald.Notifier // what next becomes
	}{
		{"empty secret keeps it", smtp("s", 587, "starttls", ""), smtp("s", 587, "starttls", "pw"), "", smtp("s", 587, "starttls", "pw")},
		{"masked secret keeps it", smtp("s", 587, "starttls", mask), smtp("s", 587, "starttls", "pw"), "", smtp("s", 587, "starttls", "pw")},
		{"defaults are the same server", smtp("s", 0, "", ""), smtp("s", 587, "starttls", "pw"), "", smtp("s", 0, "", "pw")},
		{"new host keeping the password", smtp("evil", 587, "starttls", ""), smtp("s", 587, "starttls", "pw"), "secret", nil},
		{"new port keeping the password", smtp("s", 25, "starttls", mask), smtp("s", 587, "starttls", "pw"), "secret", nil},
		{"new TLS mode keeping the password", smtp("s", 587, "none", ""), smtp("s", 587, "starttls", "pw"), "secret", nil},
		{"new host with the password", smtp("evil", 587, "starttls", "pw2"), smtp("s", 587, "starttls", "pw"), "", smtp("evil", 587, "starttls", "pw2")},
		{"new host, no password stored", smtp("other", 587, "starttls", ""), smtp("s", 587, "starttls", ""), "", smtp("other", 587, "starttls", "")},

		{"redacted URL keeps the stored one", hook("https://h.example/in?token="+mask+"&team="+mask, "", nil), hook("https://h.example/in?token=t&team=ops", "", nil),
			"", hook("https://h.example/in?token=t&team=ops", "", nil)},
		{"one value changed, the masked one kept", hook("https://h.example/in?token="+mask+"&team=dev", "", nil), hook("https://h.example/in?team=ops&token=t", "", nil),
			"", hook("https://h.example/in?token=t&team=dev", "", nil)},
		{"escaped mask", hook("https://h.example/in?token=%2A%2A%2A%2A%2A%2A%2A%2A", "", nil), hook("https://h.example/in?token=t", "", nil),
			"", hook("https://h.example/in?token=t", "", nil)},
		{"masked token to a new host", hook("https://evil.example/in?token="+mask, "", nil), hook("https://h.example/in?token=t", "", nil), "config.url", nil},
		{"masked token to a new path", hook("https://h.example/out?token="+mask, "", nil), hook("https://h.example/in?token=t", "", nil), "config.url", nil},
		{"masked key not stored", hook("https://h.example/in?key="+mask, "", nil), hook("https://h.example/in?token=t", "", nil), "config.url", nil},
		{"mask on a URL with no credential", hook("https://h.example/"+mask, "", nil), hook("https://h.example/in", "", nil), "config.url", nil},
		{"lark hook path kept", hook("https://open.feishu.cn/open-apis/bot/v2/hook/"+mask, "", nil), hook("https://open.feishu.cn/open-apis/bot/v2/hook/tok", "", nil),
			"", hook("https://open.feishu.cn/open-apis/bot/v2/hook/tok", "", nil)},
		{"lark hook token to a new host", hook("https://evil.example/open-apis/bot/v2/hook/"+mask, "", nil), hook("https://open.feishu.cn/open-apis/bot/v2/hook/tok", "", nil), "config.url", nil},
		{"userinfo password kept", hook("https://bot:"+mask+"@h.example/in", "", nil), hook("https://bot:pw@h.example/in", "", nil), "", hook("https://bot:pw@h.example/in", "", nil)},
		{"userinfo password to a new host", hook("https://bot:"+mask+"@evil.example/in", "", nil), hook("https://bot:pw@h.example/in", "", nil), "config.url", nil},

		{"masked header kept", hook("https://h.example/in", "", map[string]string{"X-Key": mask, "X-New": "v"}), hook("https://h.example/in", "", map[string]string{"X-Key": "k", "X-Gone": "g"}),
			"", hook("https://h.example/in", "", map[string]string{"X-Key": "k", "X-New": "v"})},
		{"masked header matched regardless of case", hook("https://h.example/in", "", map[string]string{"x-key": mask}), hook("https://h.example/in", "", map[string]string{"X-Key": "k"}),
			"", hook("https://h.example/in", "", map[string]string{"x-key": "k"})},
		{"masked header not stored", hook("https://h.example/in", "", map[string]string{"X-Other": mask}), hook("https://h.example/in", "", map[string]string{"X-Key": "k"}), "config.http_headers", nil},
		{"masked header to a new host", hook("https://evil.example/in", "", map[string]string{"X-Key": mask}), hook("https://h.example/in", "", map[string]string{"X-Key": "k"}), "config.http_headers", nil},
		{"new header values to a new host", hook("https://evil.example/in", "", map[string]string{"X-Key": "k2"}), hook("https://h.example/in", "", map[string]string{"X-Key": "k"}),
			"", hook("https://evil.example/in", "", map[string]string{"X-Key": "k2"})},
		{"kept secret to a new host", hook("https://evil.example/in", "", nil), hook("https://h.example/in", "whsec", nil), "secret", nil},
		{"kept secret, new query on the same endpoint", hook("https://h.example/in?access_token=new", mask, nil), hook("https://h.example/in?access_token=old", "whsec", nil),
			"", hook("https://h.example/in?access_token=new", "whsec", nil)},
		{"default port is the same endpoint", hook("https://h.example:443/in?t="+mask, "", nil), hook("https://H.example/in?t=x", "", nil), "", hook("https://h.example:443/in?t=x", "", nil)},

		{"create: masked secret", smtp("s", 587, "", mask), nil, "secret", nil},
		{"create: masked header", hook("https://h.example/in", "", map[string]string{"X-Key": mask}), nil, "config.http_headers", nil},
		{"create: masked URL", hook("https://h.example/in?token="+mask, "", nil), nil, "config.url", nil},
		{"create: nothing masked", hook("https://h.example/in?token=t", "s", map[string]string{"X-Key": "k"}), nil, "", hook("https://h.example/in?token=t", "s", map[string]string{"X-Key": "k"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.next.MergeStored(tc.old)
			if tc.field != "" {
				if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tc.field {
					t.Fatalf("MergeStored = %v (field %q), want invalid naming %q", err, herald.ErrorField(err), tc.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("MergeStored = %v", err)
			}
			if !reflect.DeepEqual(tc.next, tc.want) {
				t.Fatalf("merged = %+v\nwant %+v", tc.next, tc.want)
			}
		})
	}
}

// TestNotifier_MergeStoredUndoesRedacted: sending back exactly what a read
// showed keeps every stored value, for every kind of credential.
func TestNotifier_MergeStoredUndoesRedacted(t *testing.T) {
	t.Parallel()
	for _, n := range []*herald.Notifier{
		{Type: herald.NotifierDingTalk, Secret: "SEC", Config: herald.NotifierConfig{URL: "https://oapi.dingtalk.com/robot/send?access_token=a%2Fb&x=1&bare"}},
		{Type: herald.NotifierLark, Config: herald.NotifierConfig{URL: "https://open.feishu.cn/open-apis/bot/v2/hook/a%20b"}},
		{Type: herald.NotifierSMS, Config: herald.NotifierConfig{URL: "https://u:p%40ss@sms.example.com/send?k=v", HTTPHeaders: map[string]string{"A": "1", "B": ""}}},
		{Type: herald.NotifierEmail, Secret: "pw", Config: herald.NotifierConfig{Host: "smtp.example.com", Port: 465, TLS: "tls"}},
		{Type: herald.NotifierInbox},
	} {
		shown := n.Redacted()
		if err := shown.MergeStored(n); err != nil {
			t.Fatalf("%s: MergeStored of its own redaction = %v", n.Type, err)
		}
		if !reflect.DeepEqual(shown, n) {
			t.Fatalf("%s: merged %+v, want %+v", n.Type, shown, n)
		}
	}
}
