package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// secretBox seals notifier secrets with AES-256-GCM. A sealed value is
// "v1:" + base64(nonce || ciphertext); the empty secret stays empty.
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

// additional data binds a sealed secret to its purpose.
var secretAD = []byte("herald notifier secret")

func (b *secretBox) seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), secretAD)
	return "v1:" + base64.StdEncoding.EncodeToString(out)
}

func (b *secretBox) open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("store: a sealed secret is malformed")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], secretAD)
	if err != nil {
		return "", fmt.Errorf("store: cannot open a sealed secret (wrong HERALD_SECRET_KEY?): %w", err)
	}
	return string(plain), nil
}
