package herald_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// testCAPEM returns a self-signed CA certificate, PEM-encoded.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4102444800, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestNotifier_Validate: a configuration that could only fail later, at
// every send, is refused when the notifier is created, naming the field.
func TestNotifier_Validate(t *testing.T) {
	t.Parallel()
	ca := testCAPEM(t)
	whsec := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef01234567")) // 24 bytes
	email := func(f func(n *herald.Notifier)) *herald.Notifier {
		n := &herald.Notifier{Type: herald.NotifierEmail, Name: "mail", Config: herald.NotifierConfig{Host: "smtp.example.com", From: "herald@example.com"}}
		f(n)
		return n
	}
	tests := []struct {
		name      string
		n         *herald.Notifier
		wantField string // "" means valid
	}{
		{"webhook whsec secret", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: whsec, Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, ""},
		{"webhook reference secret", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, ""},
		{"webhook unsigned", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, ""},
		{"webhook masked secret (an update keeping the stored one)", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: herald.SecretMask, Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, ""},
		{"webhook raw secret", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: "my-shared-secret", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, "secret"},
		{"webhook raw secret that is base64", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: "abcd1234abcd1234abcd1234abcd1234", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, "secret"},
		{"webhook whsec not base64", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: "whsec_***", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, "secret"},
		{"webhook whsec empty key", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Secret: "whsec_", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in"}}, "secret"},

		{"dingtalk with token", &herald.Notifier{Type: herald.NotifierDingTalk, Name: "d", Config: herald.NotifierConfig{URL: "https://oapi.dingtalk.com/robot/send?access_token=abc"}}, ""},
		{"dingtalk masked token", &herald.Notifier{Type: herald.NotifierDingTalk, Name: "d", Config: herald.NotifierConfig{URL: "https://oapi.dingtalk.com/robot/send?access_token=" + herald.SecretMask}}, ""},
		{"dingtalk without access_token", &herald.Notifier{Type: herald.NotifierDingTalk, Name: "d", Config: herald.NotifierConfig{URL: "https://oapi.dingtalk.com/robot/send"}}, "config.url"},
		{"dingtalk empty access_token", &herald.Notifier{Type: herald.NotifierDingTalk, Name: "d", Config: herald.NotifierConfig{URL: "https://oapi.dingtalk.com/robot/send?access_token="}}, "config.url"},
		{"wecom with key", &herald.Notifier{Type: herald.NotifierWeCom, Name: "c", Config: herald.NotifierConfig{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1"}}, ""},
		{"wecom without key", &herald.Notifier{Type: herald.NotifierWeCom, Name: "c", Config: herald.NotifierConfig{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?token=k1"}}, "config.url"},
		{"lark with hook token", &herald.Notifier{Type: herald.NotifierLark, Name: "l", Config: herald.NotifierConfig{URL: "https://open.feishu.cn/open-apis/bot/v2/hook/1a2b-3c"}}, ""},
		{"larksuite with hook token", &herald.Notifier{Type: herald.NotifierLark, Name: "l", Config: herald.NotifierConfig{URL: "https://open.larksuite.com/open-apis/bot/v2/hook/1a2b-3c"}}, ""},
		{"lark without hook token", &herald.Notifier{Type: herald.NotifierLark, Name: "l", Config: herald.NotifierConfig{URL: "https://open.feishu.cn/open-apis/bot/v2/hook/"}}, "config.url"},
		{"lark not a hook", &herald.Notifier{Type: herald.NotifierLark, Name: "l", Config: herald.NotifierConfig{URL: "https://open.feishu.cn/"}}, "config.url"},

		{"email minimal", email(func(*herald.Notifier) {}), ""},
		{"email with credentials", email(func(n *herald.Notifier) { n.Config.Username, n.Secret = "u", "p" }), ""},
		{"email username without password", email(func(n *herald.Notifier) { n.Config.Username = "u" }), "secret"},
		{"email password without username", email(func(n *herald.Notifier) { n.Secret = "p" }), "config.username"},
		{"email without host", email(func(n *herald.Notifier) { n.Config.Host = "" }), "config.host"},
		{"email without from", email(func(n *herald.Notifier) { n.Config.From = "" }), "config.from"},
		{"email private CA", email(func(n *herald.Notifier) { n.Config.TLSCAPEM = ca }), ""},
		{"email two CAs", email(func(n *herald.Notifier) { n.Config.TLSCAPEM = ca + "\n" + ca }), ""},
		{"email CA not PEM", email(func(n *herald.Notifier) { n.Config.TLSCAPEM = "not a certificate" }), "config.tls_ca_pem"},
		{"email CA garbage certificate", email(func(n *herald.Notifier) {
			n.Config.TLSCAPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}))
		}), "config.tls_ca_pem"},
		{"email CA holding a private key", email(func(n *herald.Notifier) {
			n.Config.TLSCAPEM = ca + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("k")}))
		}), "config.tls_ca_pem"},
		{"email CA with trailing junk", email(func(n *herald.Notifier) { n.Config.TLSCAPEM = ca + "junk" }), "config.tls_ca_pem"},
		{"email CA without TLS", email(func(n *herald.Notifier) { n.Config.TLSCAPEM, n.Config.TLS = ca, "none" }), "config.tls_ca_pem"},
		{"email insecure_skip_verify", email(func(n *herald.Notifier) { n.Config.InsecureSkipVerify = true }), ""},
		{"email CA and insecure_skip_verify", email(func(n *herald.Notifier) { n.Config.TLSCAPEM, n.Config.InsecureSkipVerify = ca, true }), "config.insecure_skip_verify"},
		{"webhook with tls_ca_pem", &herald.Notifier{Type: herald.NotifierWebhook, Name: "w", Config: herald.NotifierConfig{URL: "https://hooks.example.com/in", TLSCAPEM: ca}}, "config.tls_ca_pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.n.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate = %v; want valid", err)
				}
				return
			}
			if herald.ErrorCode(err) != herald.EINVALID || herald.ErrorField(err) != tt.wantField {
				t.Fatalf("Validate = %v; want EINVALID naming %s", err, tt.wantField)
			}
		})
	}
}
