package console

import "net/http"

// extraRoutes registers the pages of the console's other files: TOTP
// enrollment, the browser as a push device, deliveries, attempts and
// access tokens. Each file adds its routes here, so that routes.go stays
// the one table to read.
func (c *Console) extraRoutes(m *http.ServeMux) {}
