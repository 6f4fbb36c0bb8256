package trueup

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
)

// NewSecret returns a fresh random secret of 32 bytes, base64url-encoded
// without padding (43 characters). It is used for client secrets and tokens.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // rand.Read never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the hex SHA-256 of a secret. Secrets and tokens are
// 256-bit random values, so a fast hash is as safe as a slow one here and
// keeps token checks cheap; only the hash is stored.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// NewDigits returns n random decimal digits, the first never 0.
func NewDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		max := int64(10)
		if i == 0 {
			max = 9
		}
		v, err := rand.Int(rand.Reader, big.NewInt(max))
		if err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		d := byte(v.Int64())
		if i == 0 {
			d++
		}
		b[i] = '0' + d
	}
	return string(b)
}

// NewID returns prefix followed by 20 random hex digits.
func NewID(prefix string) string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return prefix + hex.EncodeToString(b)
}
