package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// secretBox seals notifier credentials with AES-256-GCM. A sealed value is
// a version, ":" and base64(nonce || ciphertext); nothing to seal stays
// empty. Version v1 held a notifier's secret alone; v2 holds every
// credential of a notifier as JSON (see credentials). Each version has its
// own additional data, so one cannot be opened as the other.
type secretBox struct{ aead cipher.AEAD }

func newSecretBox(key []byte) (*secretBox, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("store: the secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretBox{aead: aead}, nil
}

// Sealed value versions.
const (
	sealedV1 = "v1" // the secret alone (read only: rows written before v2)
	sealedV2 = "v2" // credentials as JSON
	// sealedEndUserKey is a project's end-user key (end_user_keys).
	sealedEndUserKey = "ek1"
)

// additional data binds a sealed value to its purpose and version.
var sealAD = map[string][]byte{
	sealedV1:         []byte("herald notifier secret"),
	sealedV2:         []byte("herald notifier credentials v2"),
	sealedEndUserKey: []byte("herald end-user key v1"),
}

// seal seals plain as version; the empty plain text stays empty.
func (b *secretBox) seal(version string, plain []byte) string {
	if len(plain) == 0 {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := b.aead.Seal(nonce, nonce, plain, sealAD[version])
	return version + ":" + base64.StdEncoding.EncodeToString(out)
}

// open returns the version and plain text of a sealed value; "" opens to
// no version and nothing.
func (b *secretBox) open(sealed string) (string, []byte, error) {
	if sealed == "" {
		return "", nil, nil
	}
	version, enc, _ := strings.Cut(sealed, ":")
	ad, known := sealAD[version]
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || !known || len(raw) < b.aead.NonceSize() {
		return "", nil, fmt.Errorf("store: a sealed secret is malformed")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		return "", nil, fmt.Errorf("store: cannot open a sealed secret (wrong HERALD_SECRET_KEY?): %w", err)
	}
	return version, plain, nil
}
