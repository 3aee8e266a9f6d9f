package verify

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// MaxWebhookURL bounds a webhook URL's length (Twilio's is not published;
// 2,048 is what browsers and most proxies accept).
const MaxWebhookURL = 2048

// metadataAddrs are the cloud instance-metadata endpoints outside
// 169.254.0.0/16 and fe80::/10 (which are refused whole): AWS's IPv6
// endpoint and Alibaba Cloud's. Credentials live there, so a webhook must
// never reach them, whatever the operator allows.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("100.100.100.200"),
}

// metadataHosts are metadata endpoints known by name.
var metadataHosts = []string{"metadata.google.internal", "metadata.goog", "metadata"}

// CheckWebhookAddr says whether a webhook may be sent to ip. Link-local
// addresses (169.254.0.0/16 holds the metadata endpoint of AWS, GCP and
// Azure; fe80::/10) and the other metadata addresses are refused always;
// with publicOnly, loopback, private, unspecified, shared (100.64.0.0/10)
// and multicast addresses too. It is checked when a webhook is saved with
// an IP literal, and on every connection after DNS resolution, since a
// name can resolve anywhere.
func CheckWebhookAddr(ip netip.Addr, publicOnly bool) error {
	ip = ip.Unmap()
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() {
		return fmt.Errorf("%s is a link-local address", ip)
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return fmt.Errorf("%s is a cloud metadata address", ip)
		}
	}
	if publicOnly && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip)) {
		return fmt.Errorf("%s is not a public address", ip)
	}
	return nil
}

// checkWebhookURL checks a WebhookUrl as given: an absolute http or https
// URL with a host, without a fragment or user information, at most
// MaxWebhookURL long, whose host, if an IP literal or a metadata name,
// passes CheckWebhookAddr.
func checkWebhookURL(raw string, publicOnly bool) error {
	bad := func(why string) error {
		return Errorf(EPushParam, "Invalid parameter WebhookUrl: %s", why)
	}
	if len(raw) > MaxWebhookURL {
		return bad(fmt.Sprintf("must be at most %d characters", MaxWebhookURL))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("must be an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return bad("must have a host")
	case strings.Contains(raw, "#"):
		return bad("must not have a fragment")
	case u.User != nil:
		return bad("must not carry user information")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, m := range metadataHosts {
		if host == m {
			return bad("the target is a cloud metadata endpoint")
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := CheckWebhookAddr(ip, publicOnly); err != nil {
			return bad("the target " + err.Error())
		}
	} else if publicOnly && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		return bad("the target is not public")
	}
	return nil
}
