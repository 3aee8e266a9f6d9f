package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// formPush is the only form type Twilio defines.
const formPush = "form-push"

// formResponse is verify.v2.form on the wire.
type formResponse struct {
	FormType string         `json:"form_type"`
	Forms    map[string]any `json:"forms"`
	FormMeta map[string]any `json:"form_meta"`
	URL      string         `json:"url"`
}

// obj and strSchema keep the schemas below readable.
type obj = map[string]any

func strSchema(description string) obj { return obj{"type": "string", "description": description} }

// pushForms describes, as small JSON-Schema documents, the form fields of
// the three push calls: what verifyd actually accepts and checks, with the
// limits the Verifier enforces. Twilio's example leaves them empty.
func pushForms() map[string]any {
	platform := strSchema("apn (iOS), fcm (Android) or none (no push; the app polls)")
	platform["enum"] = []string{verify.PlatformAPN, verify.PlatformFCM, verify.PlatformNone}
	token := strSchema("APNs device token or FCM registration token; required unless the platform is none")
	token["minLength"], token["maxLength"] = verify.MinNotificationToken, verify.MaxNotificationToken
	name := strSchema("Name of the device shown to the user")
	name["maxLength"] = verify.MaxFriendlyName
	appID := strSchema("App bundle id or package name")
	appID["maxLength"] = verify.MaxAppIDLength
	message := strSchema("Text shown to the user")
	message["maxLength"] = verify.MaxDetailsMessage
	return map[string]any{
		"create_factor": obj{
			"type": "object",
			"required": []string{"FriendlyName", "FactorType", "Binding.PublicKey", "Binding.Alg",
				"Config.SdkVersion", "Config.AppId", "Config.NotificationPlatform"},
			"properties": obj{
				"FriendlyName":                name,
				"FactorType":                  obj{"type": "string", "enum": []string{string(verify.FactorPush)}},
				"Binding.PublicKey":           strSchema("Standard base64 of the DER SubjectPublicKeyInfo of a P-256 public key"),
				"Binding.Alg":                 obj{"type": "string", "enum": []string{"ES256"}},
				"Config.SdkVersion":           strSchema("Version of the Verify Push SDK"),
				"Config.AppId":                appID,
				"Config.NotificationPlatform": platform,
				"Config.NotificationToken":    token,
				"Metadata":                    strSchema("JSON object with string values, at most 1024 characters"),
			},
		},
		"verify_factor": obj{
			"type":     "object",
			"required": []string{"AuthPayload"},
			"properties": obj{
				"AuthPayload": strSchema("Standard base64 of the DER ECDSA P-256 SHA-256 signature over the factor SID"),
			},
		},
		"create_challenge": obj{
			"type":     "object",
			"required": []string{"FactorSid", "Details.Message"},
			"properties": obj{
				"FactorSid":       obj{"type": "string", "pattern": "^YF[0-9a-fA-F]{32}$"},
				"ExpirationDate":  obj{"type": "string", "format": "date-time"},
				"Details.Message": message,
				"Details.Fields": obj{
					"type":     "array",
					"maxItems": verify.MaxDetailsFields,
					"items": obj{
						"type":     "object",
						"required": []string{"label", "value"},
						"properties": obj{
							"label": obj{"type": "string", "maxLength": verify.MaxFieldLabel},
							"value": obj{"type": "string", "maxLength": verify.MaxFieldValue},
						},
					},
				},
				"HiddenDetails": strSchema("JSON object with string values, at most 1024 characters; never shown to the user"),
			},
		},
	}
}

func (s *Server) handleFormFetch(w http.ResponseWriter, r *http.Request, _ *principal) {
	if r.PathValue("FormType") != formPush {
		s.error(w, r, notFound(r))
		return
	}
	s.writeJSON(w, r, http.StatusOK, formResponse{
		FormType: formPush,
		Forms:    pushForms(),
		FormMeta: map[string]any{},
		URL:      s.BaseURL + pathForms + "/" + formPush,
	})
}
