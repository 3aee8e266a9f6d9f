package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/verifyd/verify"
)

// eMethod is Twilio's code for a method the resource does not support.
// verify has no such code because only the transport can hit it.
const eMethod = 20004

// moreInfoBase is where Twilio documents each error code; more_info is
// this plus the code.
const moreInfoBase = "https://www.twilio.com/docs/errors/"

// StatusOf maps a Twilio error code, the Code of a *verify.Error, to the
// HTTP status the API answers it with. It is the only place that does so
// (ARCHITECTURE.md §2.4): the API's error responses and the console's pages
// both use it, so that a refusal by the Verifier has one status wherever it
// shows. The statuses come from limits.md §2, with Twilio's documented
// status where there is one and the suggested one otherwise. Unknown codes
// are invalid input: 400.
func StatusOf(code int) int {
	switch code {
	case verify.EAuthenticate:
		return http.StatusUnauthorized
	case verify.ENotFound, 60390, 60391, 60392, 60431:
		return http.StatusNotFound
	case eMethod:
		return http.StatusMethodNotAllowed
	case verify.EInternal:
		return http.StatusInternalServerError
	case verify.EEntityExists, 60302, 60304, verify.EBindingExists:
		return http.StatusConflict
	case verify.EChallengeTries, verify.ENotifyMax, verify.EFactorTries, verify.EChallengeQuota, verify.EFactorQuota, 60328,
		verify.ETooManyRequests, 60202, 60203, 60212:
		return http.StatusTooManyRequests
	case verify.EFactorVerify, verify.ENotAuthorized, verify.EFactorUnverifed, verify.EChallengeDone,
		verify.EChallengeExpire, verify.EChallengeVerify, verify.EFactorState, 60410, 60412, 60413,
		verify.EFeature, verify.ELandline, 60605:
		return http.StatusForbidden
	default:
		// 20001, 60200, 60300, 60305, 60307, 60314, 60315, 6036x, 60368-60370
		// and everything unknown.
		return http.StatusBadRequest
	}
}

// errorBody is Twilio's legacy error body. code and status are JSON
// integers (the iOS SDK decodes code as Int; twilio-go takes Status from the
// body, not from the HTTP status line). There is deliberately no type or
// title key: with both, twilio-node throws its RFC 9457 exception instead.
type errorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// renderError returns the HTTP status and body for err. Errors that are not
// a *verify.Error, and EInternal ones, get a generic message so that no
// internal detail reaches the client.
func renderError(err error) (int, errorBody) {
	code := verify.ErrorCode(err)
	msg := verify.ErrorMessage(err)
	if code == verify.EInternal {
		msg = "Internal server error"
	}
	status := StatusOf(code)
	return status, errorBody{Code: code, Message: msg, MoreInfo: moreInfoBase + strconv.Itoa(code), Status: status}
}

// error writes err as a Twilio error response. Internal errors are logged
// with their cause, which the client never sees.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status, body := renderError(err)
	if status == http.StatusInternalServerError {
		s.logger().Error("api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="verifyd"`)
		// The Push SDKs correct their clock from the Date of a 401; set it
		// from our clock rather than leave it to net/http.
		w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	var limited *verify.RateLimitedError
	if errors.As(err, &limited) {
		secs := (limited.After + time.Second - 1) / time.Second // rounded up
		w.Header().Set("Retry-After", strconv.Itoa(int(max(secs, 1))))
		if limited.Limit != "" {
			w.Header().Set("Twilio-Reached-Rate-Limit", limited.Limit)
		}
	}
	var retry *retryError
	if errors.As(err, &retry) {
		secs := (retry.after + time.Second - 1) / time.Second // rounded up
		w.Header().Set("Retry-After", strconv.Itoa(int(max(secs, 1))))
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.code = body.Code // for the access log
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(body) // cannot fail: ints and strings only
	writeBody(w, status, buf.Bytes())
}
