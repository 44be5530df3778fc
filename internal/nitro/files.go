package nitro

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"slices"
	"time"

	"github.com/gslbd/gslbd/internal/atomicfile"
)

// userRecord is a user as stored: never the password, only its salt and
// argon2id hash.
type userRecord struct {
	Name string `json:"name"`
	Role string `json:"role"` // "superuser" or "read-only"
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

// LoadUsers reads a users file written by SaveUsers. A missing file is an
// empty set of users (nobody can log in until one is added).
func LoadUsers(path string) (*Users, error) {
	u := NewUsers()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []userRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range recs {
		salt, err1 := hex.DecodeString(r.Salt)
		hash, err2 := hex.DecodeString(r.Hash)
		if r.Name == "" || err1 != nil || err2 != nil || len(hash) != argonKeyLen {
			return nil, fmt.Errorf("%s: user %q: bad record", path, r.Name)
		}
		role := Superuser
		if r.Role == "read-only" {
			role = ReadOnly
		}
		u.m[r.Name] = &user{name: r.Name, role: role, salt: salt, hash: hash}
	}
	return u, nil
}

// SaveUsers writes the users crash-safely, readable by the owner only.
func (u *Users) SaveUsers(path string) error {
	u.mu.Lock()
	var recs []userRecord
	for _, x := range u.m {
		role := "superuser"
		if x.role == ReadOnly {
			role = "read-only"
		}
		recs = append(recs, userRecord{Name: x.name, Role: role, Salt: hex.EncodeToString(x.salt), Hash: hex.EncodeToString(x.hash)})
	}
	u.mu.Unlock()
	slices.SortFunc(recs, func(a, b userRecord) int { return cmpString(a.Name, b.Name) })
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600, 0)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// names lists the users' names, sorted.
func (u *Users) names() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for n := range u.m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Len is the number of users.
func (u *Users) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.m)
}

// Certificate loads the API's certificate and key, generating a
// self-signed ECDSA P-256 pair for localhost, 127.0.0.1 and ::1 (and the
// host's name) at first start. The key file is written owner-only.
func Certificate(certPath, keyPath string) (tls.Certificate, bool, error) {
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		return c, false, nil
	} else if _, statErr := os.Stat(certPath); statErr == nil {
		return tls.Certificate{}, false, fmt.Errorf("API certificate %s: %w", certPath, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "gslbd API (self-signed)"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	if err := atomicfile.Write(keyPath, keyPEM, 0o600, 0); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := atomicfile.Write(certPath, certPEM, 0o644, 0); err != nil {
		return tls.Certificate{}, false, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, true, err
}

// TLSConfig is the API's TLS: version 1.2 or later.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}
