package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// BlockedAddressError is the error of a delivery to an address webhooks do
// not reach unless the server allows private ones: loopback, private,
// link-local or unspecified.
type BlockedAddressError struct {
	Addr netip.Addr
	Kind string // loopback, private, link-local, unspecified
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("address %s is %s: webhooks are delivered to public addresses only (serve --webhook-allow-private allows others)", e.Addr, e.Kind)
}

// blockedKind returns what makes a a address webhooks do not reach, or ""
// for a public one.
func blockedKind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "link-local"
	}
	return ""
}

// CheckDialAddress is the net.Dialer Control function that refuses a
// connection to a loopback, private, link-local or unspecified address.
// It runs on the address being dialled, after name resolution, so a name
// that resolves (or is rebound) to such an address is refused too.
func CheckDialAddress(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial %s: %w", address, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("webhook dial %s: not an IP address", address)
	}
	if kind := blockedKind(a); kind != "" {
		return &BlockedAddressError{Addr: a.Unmap(), Kind: kind}
	}
	return nil
}

// newTransport returns the transport deliveries are posted with: the
// default transport's settings, its dialer checking each address it
// connects to unless allowPrivate.
func newTransport(allowPrivate bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = CheckDialAddress
	}
	t.DialContext = d.DialContext
	return t
}
