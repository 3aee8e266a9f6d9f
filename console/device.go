package console

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
)

// deviceFriendlyName names the factors this page enrolls.
const deviceFriendlyName = "Browser"

// maxDeviceServices bounds the services offered for enrollment, in the
// services page's order (oldest first): an admin console's account has a
// handful, and a select of thousands would be no use anyway.
const maxDeviceServices = 200

// deviceRoutes serves the browser as a Verify Push device. The console's
// part is small on purpose: the page and, as an app's backend does in
// Twilio's samples, the enrollment access token. Everything else (create
// and verify the factor, list and answer challenges, delete the factor) is
// device.js speaking the Push SDK's protocol to /v2 on the same origin,
// with a WebCrypto key whose private half never leaves the browser, so the
// server treats the browser as any other push factor, and the page
// exercises that protocol rather than a shortcut around it.
func (c *Console) deviceRoutes(m *http.ServeMux) {
	m.HandleFunc("GET "+Prefix+"/device", c.authed(c.devicePage))
	m.HandleFunc("POST "+Prefix+"/device/token", c.authed(c.deviceToken))
}

// deviceView is the device page's data: the services it may enroll in.
// The device itself lives in the browser (IndexedDB), not on the server.
type deviceView struct {
	Services []*verify.Service
}

func (c *Console) devicePage(w http.ResponseWriter, r *http.Request) {
	services, _, err := c.cfg.Verifier.ListServices(r.Context(), current(r).account, verify.Page{Size: maxDeviceServices})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "device", view{Title: "Push device", Nav: "device", Data: deviceView{Services: services}})
}

// deviceTokenRequest is what device.js posts to get an enrollment token.
type deviceTokenRequest struct {
	Service  string `json:"service"`
	Identity string `json:"identity"`
}

// deviceTokenResponse is the enrollment token and what it was bound to,
// the shape of the samples' access-token backends; the page enrolls at
// exactly this service and identity.
type deviceTokenResponse struct {
	Token              string     `json:"token"`
	ServiceSid         verify.Sid `json:"service_sid"`
	Identity           string     `json:"identity"`
	FactorFriendlyName string     `json:"factor_friendly_name"`
}

// deviceToken mints a push enrollment access token for a service of the
// signed-in account, through the Verifier's CreateAccessToken: the same
// checks, single use and time to live as POST /v2/.../AccessTokens. It
// takes JSON only, which a form of another site cannot send, on top of the
// CSRF token that authed requires.
func (c *Console) deviceToken(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		deviceError(w, http.StatusUnsupportedMediaType, 0, "send the request as application/json")
		return
	}
	var req deviceTokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		deviceError(w, http.StatusBadRequest, 0, "the request is not a JSON object of service and identity")
		return
	}
	identity := strings.TrimSpace(req.Identity)
	push, name := string(verify.FactorPush), deviceFriendlyName
	t, err := c.cfg.Verifier.CreateAccessToken(r.Context(), current(r).account, verify.Sid(req.Service),
		verify.AccessTokenParams{Identity: &identity, FactorType: &push, FactorFriendlyName: &name})
	if err != nil {
		var e *verify.Error
		if !errors.As(err, &e) || e.Code == verify.EInternal {
			c.cfg.Logger.Error("console", "path", r.URL.Path, "err", err)
			deviceError(w, http.StatusInternalServerError, 0, "internal error")
			return
		}
		// The API's status for the code: another account's service is
		// not found, exactly like one that does not exist.
		deviceError(w, api.StatusOf(e.Code), e.Code, e.Message)
		return
	}
	writeDeviceJSON(w, http.StatusCreated, deviceTokenResponse{
		Token: t.Token, ServiceSid: t.ServiceSid, Identity: t.Identity, FactorFriendlyName: t.FactorFriendlyName,
	})
}

// deviceError answers a script: a Twilio code (0 when none applies) and a
// message the page shows as it is.
func deviceError(w http.ResponseWriter, status, code int, msg string) {
	writeDeviceJSON(w, status, struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message"`
	}{code, msg})
}

func writeDeviceJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
