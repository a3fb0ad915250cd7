package main

// A container image built from scratch has no system certificate store:
// without these roots, every webhook, robot and SMTP server over TLS would
// fail to verify. They are used only where the system has none (a mounted
// bundle or SSL_CERT_FILE still wins).
import _ "golang.org/x/crypto/x509roots/fallback"
