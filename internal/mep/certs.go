package mep

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// This file holds the deployment's private CA and the site certificates
// of the TLS port (docs/mep.md, "Certificates").

// ALPN is the protocol the TLS port speaks; anything else is refused in
// the handshake, before a frame is read.
const ALPN = "gslb-mep/1"

// uriScheme names a site in a certificate: gslb-site://<name>.
const uriScheme = "gslb-site"

// SiteURI is the URI a site's certificate carries.
func SiteURI(site string) *url.URL {
	return &url.URL{Scheme: uriScheme, Host: url.PathEscape(strings.ToLower(site))}
}

// siteDNSName is the DNS name a site's certificate carries and the dialler
// verifies: the lower-cased site name when it is a valid host name label
// sequence, else "x-" and its hex (NetScaler site names may hold spaces,
// colons and @).
func siteDNSName(site string) string {
	s := strings.ToLower(site)
	ok := s != "" && len(s) <= 63
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			ok = false
		}
	}
	if ok && !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..") {
		return s
	}
	return "x-" + hex.EncodeToString([]byte(s))
}

// CertSite returns the site a certificate names (its gslb-site URI),
// lower-cased.
func CertSite(c *x509.Certificate) (string, error) {
	var sites []string
	for _, u := range c.URIs {
		if u.Scheme == uriScheme {
			name, err := url.PathUnescape(u.Host)
			if err != nil {
				return "", fmt.Errorf("certificate %q: bad site URI %q", c.Subject.CommonName, u.String())
			}
			sites = append(sites, name)
		}
	}
	if len(sites) != 1 {
		return "", fmt.Errorf("certificate %q: %d gslb-site URIs, want exactly one", c.Subject.CommonName, len(sites))
	}
	return sites[0], nil
}

// NewCA makes a deployment CA (ECDSA P-256, valid for years), as PEM.
func NewCA(name string, years int) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"gslbd"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(years, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	return encode(der, key)
}

// NewSiteCert makes a site's certificate, signed by the CA: its site URI,
// its DNS name and its addresses; usable as server and as client.
func NewSiteCert(caCertPEM, caKeyPEM []byte, site string, ips []netip.Addr, years int) (certPEM, keyPEM []byte, err error) {
	ca, err := tls.X509KeyPair(caCertPEM, caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("CA: %w", err)
	}
	if !caCert.IsCA {
		return nil, nil, errors.New("CA: the certificate is not a CA")
	}
	if site == "" {
		return nil, nil, errors.New("a site name is required")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: site, Organization: []string{"gslbd site"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(years, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{SiteURI(site)}, DNSNames: []string{siteDNSName(site)},
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	return encode(der, key)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func encode(der []byte, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// Identity is what a site shows and trusts on the TLS port.
type Identity struct {
	Cert  tls.Certificate
	Roots *x509.CertPool
	// Site is the site the certificate names.
	Site string
}

// NewIdentity reads an identity from PEM: the CA bundle, the site's
// certificate and key.
func NewIdentity(caPEM, certPEM, keyPEM []byte) (*Identity, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("CA bundle: no certificate in it")
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("site certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("site certificate: %w", err)
	}
	c.Leaf = leaf
	site, err := CertSite(leaf)
	if err != nil {
		return nil, err
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("site certificate %q is not signed by the CA bundle: %w", site, err)
	}
	return &Identity{Cert: c, Roots: roots, Site: site}, nil
}

// CertFiles are where a site's identity lives in a directory: ca.crt,
// <site>.crt and <site>.key (the site lower-cased), as `gslbd cert`
// writes them.
func CertFiles(dir, site string) (ca, cert, key string) {
	base := certBase(site)
	return filepath.Join(dir, "ca.crt"), filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
}

// certBase is a site's file name stem.
func certBase(site string) string {
	return siteDNSName(site)
}

// LoadIdentity reads a site's identity from a directory (CertFiles).
func LoadIdentity(dir, site string) (*Identity, error) {
	caf, cf, kf := CertFiles(dir, site)
	var pems [3][]byte
	for i, f := range []string{caf, cf, kf} {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pems[i] = b
	}
	id, err := NewIdentity(pems[0], pems[1], pems[2])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cf, err)
	}
	if !strings.EqualFold(id.Site, site) {
		return nil, fmt.Errorf("%s names site %q, not %q", cf, id.Site, site)
	}
	return id, nil
}

// peerSite returns the verified site name of a TLS connection's peer.
func peerSite(cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("the peer sent no certificate")
	}
	return CertSite(cs.PeerCertificates[0])
}

// serverTLS is the acceptor's TLS configuration: TLS 1.3, the peer must
// show a certificate of the CA, ALPN gslb-mep/1. Which sites may connect
// is checked after the handshake, against the configuration.
func (id *Identity) serverTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{id.Cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: id.Roots,
		NextProtos: []string{ALPN},
	}
}

// clientTLS is the dialler's TLS configuration for reaching site: the
// server's certificate must chain to the CA and name that very site.
func (id *Identity) clientTLS(site string) *tls.Config {
	want := strings.ToLower(site)
	return &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{id.Cert},
		RootCAs: id.Roots, ServerName: siteDNSName(site), NextProtos: []string{ALPN},
		VerifyConnection: func(cs tls.ConnectionState) error {
			got, err := peerSite(cs)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("the certificate names site %q, not %q", got, want)
			}
			if cs.NegotiatedProtocol != ALPN {
				return fmt.Errorf("the peer does not speak %s", ALPN)
			}
			return nil
		},
	}
}
