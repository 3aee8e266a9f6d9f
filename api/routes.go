package api

import "net/http"

// Path prefixes, shared by the route table and the urls in responses.
const (
	pathServices = "/v2/Services"
	pathForms    = "/v2/Forms"
)

// factorPattern is the path of one factor; deviceScope matches it too.
const factorPattern = pathServices + "/{ServiceSid}/Entities/{Identity}/Factors/{Sid}"

// routes registers every operation verifyd serves. This table is the one
// answer to "which endpoints exist", and to which of them a Push SDK device
// may call (s.device: device JWT; s.enroll: enrollment access token; all
// others take account credentials only); each handler parses, calls the
// Verifier and encodes. Updates are POSTs to the instance url, as in
// Twilio's API. Path values are used literally: ServeMux does not turn '+'
// into a space. Besides Verify v2, the table holds the one resource of the
// 2010-04-01 API that Verify users need, API keys, the auth-token
// rotation of the Accounts v1 API, and the push credentials (CR…) that
// Verify services name, at the path Notify v1 and Conversations v1 share.
func (s *Server) routes(mux *http.ServeMux) {
	const (
		services   = pathServices
		service    = services + "/{Sid}"
		entities   = services + "/{ServiceSid}/Entities"
		entity     = entities + "/{Identity}"
		factors    = entity + "/Factors"
		factor     = factorPattern
		challenges = entity + "/Challenges"
		challenge  = challenges + "/{Sid}"
		notifs     = challenges + "/{ChallengeSid}/Notifications"
		webhooks   = services + "/{ServiceSid}/Webhooks"
		webhook    = webhooks + "/{Sid}"
		tokens     = services + "/{ServiceSid}/AccessTokens"
		token      = tokens + "/{Sid}"
		form       = pathForms + "/{FormType}"
		keys       = pathAccounts + "/{AccountSid}/Keys.json"
		key        = pathAccounts + "/{AccountSid}/Keys/{Key}" // {Key} is "SK….json"
		creds      = pathCredentials
		verifs     = services + "/{ServiceSid}/Verifications"
		verif      = verifs + "/{Sid}" // {Sid} is a VE SID or the To, with a literal '+'
		verifCheck = services + "/{ServiceSid}/VerificationCheck"
		cred       = creds + "/{Sid}"
		msgConfs   = services + "/{ServiceSid}/MessagingConfigurations"
		msgConf    = msgConfs + "/{Country}"
		rateLimits = services + "/{ServiceSid}/RateLimits"
		rateLimit  = rateLimits + "/{Sid}" // {Sid} is an RK SID or the UniqueName
		buckets    = rateLimits + "/{RateLimitSid}/Buckets"
		bucket     = buckets + "/{Sid}"
		passkeys   = services + "/{ServiceSid}/Passkeys"
	)

	mux.HandleFunc("GET "+pathHealth, s.handleHealth)
	mux.HandleFunc("GET "+pathReady, s.handleReady)
	if s.Metrics != nil && s.ServeMetrics {
		mux.Handle("GET /metrics", s.Metrics.Handler())
	}

	mux.HandleFunc("POST "+services, s.authed(s.handleServiceCreate))
	mux.HandleFunc("GET "+services, s.authed(s.handleServiceList))
	mux.HandleFunc("GET "+service, s.device(s.handleServiceFetch))
	mux.HandleFunc("POST "+service, s.authed(s.handleServiceUpdate))
	mux.HandleFunc("DELETE "+service, s.authed(s.handleServiceDelete))

	mux.HandleFunc("POST "+entities, s.authed(s.handleEntityCreate))
	mux.HandleFunc("GET "+entities, s.authed(s.handleEntityList))
	mux.HandleFunc("GET "+entity, s.authed(s.handleEntityFetch))
	mux.HandleFunc("DELETE "+entity, s.authed(s.handleEntityDelete))

	mux.HandleFunc("POST "+factors, s.enroll(s.handleFactorCreate))
	mux.HandleFunc("GET "+factors, s.authed(s.handleFactorList))
	mux.HandleFunc("GET "+factor, s.authed(s.handleFactorFetch))
	mux.HandleFunc("POST "+factor, s.device(s.handleFactorUpdate))
	mux.HandleFunc("DELETE "+factor, s.device(s.handleFactorDelete))

	mux.HandleFunc("POST "+challenges, s.authed(s.handleChallengeCreate))
	mux.HandleFunc("GET "+challenges, s.device(s.handleChallengeList))
	mux.HandleFunc("GET "+challenge, s.device(s.handleChallengeFetch))
	mux.HandleFunc("POST "+challenge, s.device(s.handleChallengeUpdate))

	mux.HandleFunc("POST "+notifs, s.authed(s.handleNotificationCreate))

	mux.HandleFunc("POST "+passkeys+"/Factors", s.authed(s.handlePasskeyFactorCreate))
	mux.HandleFunc("POST "+passkeys+"/VerifyFactor", s.authed(s.handlePasskeyFactorVerify))
	mux.HandleFunc("POST "+passkeys+"/Challenges", s.authed(s.handlePasskeyChallengeCreate))
	mux.HandleFunc("POST "+passkeys+"/ApproveChallenge", s.authed(s.handlePasskeyChallengeApprove))

	mux.HandleFunc("POST "+webhooks, s.authed(s.handleWebhookCreate))
	mux.HandleFunc("GET "+webhooks, s.authed(s.handleWebhookList))
	mux.HandleFunc("GET "+webhook, s.authed(s.handleWebhookFetch))
	mux.HandleFunc("POST "+webhook, s.authed(s.handleWebhookUpdate))
	mux.HandleFunc("DELETE "+webhook, s.authed(s.handleWebhookDelete))

	mux.HandleFunc("POST "+tokens, s.authed(s.handleAccessTokenCreate))
	mux.HandleFunc("GET "+token, s.authed(s.handleAccessTokenFetch))

	mux.HandleFunc("GET "+form, s.authed(s.handleFormFetch))

	mux.HandleFunc("POST "+verifs, s.authed(s.handleVerificationCreate))
	mux.HandleFunc("GET "+verif, s.authed(s.handleVerificationFetch))
	mux.HandleFunc("POST "+verif, s.authed(s.handleVerificationUpdate))
	mux.HandleFunc("POST "+verifCheck, s.authed(s.handleVerificationCheck))
	mux.HandleFunc("POST "+msgConfs, s.authed(s.handleMessagingCreate))
	mux.HandleFunc("GET "+msgConfs, s.authed(s.handleMessagingList))
	mux.HandleFunc("GET "+msgConf, s.authed(s.handleMessagingFetch))
	mux.HandleFunc("POST "+msgConf, s.authed(s.handleMessagingUpdate))
	mux.HandleFunc("DELETE "+msgConf, s.authed(s.handleMessagingDelete))
	mux.HandleFunc("POST "+rateLimits, s.authed(s.handleRateLimitCreate))
	mux.HandleFunc("GET "+rateLimits, s.authed(s.handleRateLimitList))
	mux.HandleFunc("GET "+rateLimit, s.authed(s.handleRateLimitFetch))
	mux.HandleFunc("POST "+rateLimit, s.authed(s.handleRateLimitUpdate))
	mux.HandleFunc("DELETE "+rateLimit, s.authed(s.handleRateLimitDelete))
	mux.HandleFunc("POST "+buckets, s.authed(s.handleBucketCreate))
	mux.HandleFunc("GET "+buckets, s.authed(s.handleBucketList))
	mux.HandleFunc("GET "+bucket, s.authed(s.handleBucketFetch))
	mux.HandleFunc("POST "+bucket, s.authed(s.handleBucketUpdate))
	mux.HandleFunc("DELETE "+bucket, s.authed(s.handleBucketDelete))
	mux.HandleFunc("POST "+pathSafeList, s.authed(s.handleSafeNumberCreate))
	mux.HandleFunc("GET "+pathSafeList+"/{PhoneNumber}", s.authed(s.handleSafeNumberFetch))
	mux.HandleFunc("DELETE "+pathSafeList+"/{PhoneNumber}", s.authed(s.handleSafeNumberDelete))
	mux.HandleFunc("GET "+pathAttempts, s.authed(s.handleAttemptList))
	mux.HandleFunc("GET "+pathSummary, s.authed(s.handleAttemptSummary))
	mux.HandleFunc("GET "+pathAttempts+"/{Sid}", s.authed(s.handleAttemptFetch))
	mux.HandleFunc("GET "+pathTemplates, s.authed(s.handleTemplateList))
	if s.Inbox != nil {
		// Development only (serve --dev), outside /v2: not a Twilio API.
		mux.HandleFunc("GET "+pathDevInbox, s.authed(s.handleDevInbox))
	}

	mux.HandleFunc("POST "+keys, s.authed(s.handleKeyCreate))
	mux.HandleFunc("GET "+keys, s.authed(s.handleKeyList))
	mux.HandleFunc("GET "+key, s.authed(s.handleKeyFetch))
	mux.HandleFunc("POST "+key, s.authed(s.handleKeyUpdate))
	mux.HandleFunc("DELETE "+key, s.authed(s.handleKeyDelete))

	mux.HandleFunc("POST "+creds, s.authed(s.handleCredentialCreate))
	mux.HandleFunc("GET "+creds, s.authed(s.handleCredentialList))
	mux.HandleFunc("GET "+cred, s.authed(s.handleCredentialFetch))
	mux.HandleFunc("POST "+cred, s.authed(s.handleCredentialUpdate))
	mux.HandleFunc("DELETE "+cred, s.authed(s.handleCredentialDelete))

	mux.HandleFunc("POST "+pathSecondaryToken, s.authed(s.handleSecondaryTokenCreate))
	mux.HandleFunc("DELETE "+pathSecondaryToken, s.authed(s.handleSecondaryTokenDelete))
	mux.HandleFunc("POST "+pathPromoteToken, s.authed(s.handlePromoteToken))
}
