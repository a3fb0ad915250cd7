package console_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// TestNotifier_FormKeepsSMTPTrust: the form reads an email notifier's
// private CA and insecure_skip_verify, so that saving it in the console
// sets them, and saving it again as shown keeps them rather than dropping
// what the API set.
func TestNotifier_FormKeepsSMTPTrust(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, _, _ := b.fixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4102444800, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	n := &herald.Notifier{ProjectID: p.ID, Type: herald.NotifierEmail, Name: "Mail",
		Config: herald.NotifierConfig{Host: "smtp.example.com", From: "herald@example.com"}}
	if err := b.db.CreateNotifier(b.ctx, n); err != nil {
		t.Fatal(err)
	}
	path := "/console/notifiers/" + itoa(n.ID)
	form := func(extra url.Values) url.Values {
		v := url.Values{"name": {"Mail"}, "host": {"smtp.example.com"}, "port": {"587"}, "tls": {"starttls"}, "from": {"herald@example.com"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		extra    url.Values
		ca       bool
		insecure bool
	}{
		{"CA", url.Values{"tls_ca_pem": {ca}}, true, false},
		{"Insecure", url.Values{"insecure_skip_verify": {"1"}}, false, true},
	} {
		c := br(b, t)
		if st, _, body := c.post(path, path, form(tc.extra)); st != http.StatusSeeOther {
			t.Fatalf("%s: save = %d\n%s", tc.name, st, body)
		}
		got, err := b.db.FindNotifierByID(b.ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if (got.Config.TLSCAPEM != "") != tc.ca || got.Config.InsecureSkipVerify != tc.insecure {
			t.Fatalf("%s: stored tls_ca_pem set=%v insecure_skip_verify=%v", tc.name, got.Config.TLSCAPEM != "", got.Config.InsecureSkipVerify)
		}
	}
}
