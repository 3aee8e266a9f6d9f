package console

import "net/http"

// extraRoutes registers the pages of the console's other files, each
// through a function beside its handlers: TOTP enrollment (totp.go), the
// browser as a push device (device.go), and deliveries, verifications and
// access tokens (activity.go).
func (c *Console) extraRoutes(m *http.ServeMux) {
	c.totpRoutes(m)
	c.deviceRoutes(m)
	c.activityRoutes(m)
}
