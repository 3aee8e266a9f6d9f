package verify

import (
	"context"
	"time"

	"github.com/verifyd/verify/message"
	"github.com/verifyd/verify/phone"
)

// CreateVerification sends a code to p.To. A To (for PSD2, a To, amount
// and payee) that has a pending verification gets the same code again on
// the channel asked for, one more attempt on the same SID, up to
// MaxVerificationSends; otherwise a new verification starts with a new
// code. The send itself is an outbox row written in the same transaction,
// so the answer never waits for a gateway and a restart loses no code.
func (v *Verifier) CreateVerification(ctx context.Context, account, service Sid, p VerificationParams) (*Verification, error) {
	svc, err := v.service(ctx, account, service)
	if err != nil {
		return nil, err
	}
	sp, err := v.planSend(svc, p)
	if err != nil {
		return nil, err
	}
	if err := v.checkGeo(ctx, account, service, sp); err != nil {
		return nil, err
	}
	if sp.channel == ChannelSMS {
		if sp.messagingService, err = v.Store.MessagingServiceFor(ctx, service, sp.country); err != nil {
			return nil, err
		}
	}
	now := v.now()
	attemptSid, err := v.newSid(PrefixAttempt)
	if err != nil {
		return nil, err
	}
	a := &SendAttempt{Sid: attemptSid, AccountSid: account, ServiceSid: service, Channel: sp.channel, To: sp.to,
		Country: sp.country, Locale: sp.locale, Tags: sp.tags, MessageStatus: MessageQueued, DateCreated: now, DateUpdated: now}
	return v.createTx(ctx, svc, sp, a, now)
}

// createTx starts a verification or re-sends its code, in one transaction
// that first takes the units of the rate limits the request names.
func (v *Verifier) createTx(ctx context.Context, svc *Service, sp *sendPlan, a *SendAttempt, now time.Time) (*Verification, error) {
	service := svc.Sid
	values := v.rateValues(service, sp.rateLimits)
	var out *Verification
	err := v.Store.Tx(ctx, func(st Store) error {
		// First, so that a create over a limit is told so whatever else
		// would refuse it; any later refusal rolls the units back.
		if err := takeRates(ctx, st, service, values, now); err != nil {
			return err
		}
		cur, err := st.FindLiveVerification(ctx, service, sp.key)
		switch {
		case IsCode(err, ENotFound):
			cur = nil
		case err != nil:
			return err
		case cur.StatusAt(now) == VerificationExpired:
			if _, err := st.ReleaseVerification(ctx, cur.Sid, now); err != nil {
				return err
			}
			cur = nil
		case cur.Status == VerificationMaxAttempts:
			return Errorf(EMaxChecks, "Max check attempts reached: wait until the verification expires to start a new one")
		}
		if cur != nil {
			out, err = v.resend(ctx, st, svc, cur, sp, a, now)
		} else {
			out, err = v.start(ctx, st, svc, sp, a, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// start creates a new verification with a new code.
func (v *Verifier) start(ctx context.Context, st Store, svc *Service, sp *sendPlan, a *SendAttempt, now time.Time) (*Verification, error) {
	sid, err := v.newSid(PrefixVerification)
	if err != nil {
		return nil, err
	}
	keys := v.codeKeys()[0]
	length := svc.CodeLength
	if length == 0 {
		length = DefaultCodeLength
	}
	code := sp.customCode
	if code == "" {
		code = deriveCode(keys, sid, length)
	} else {
		length = len(code)
	}
	ver := &Verification{Sid: sid, AccountSid: svc.AccountSid, ServiceSid: svc.Sid, To: sp.to, Key: sp.key,
		Channel: sp.channel, Status: VerificationPending, Amount: sp.amount, Payee: sp.payee,
		CodeHash: codeHash(keys, sid, code), CodeLength: length, CustomCode: sp.customCode != "",
		Sends: 1, ExpiresAt: now.Add(VerificationTTL), Attempts: []*SendAttempt{a}, DateCreated: now, DateUpdated: now}
	a.VerificationSid = sid
	row, err := v.codeRow(svc, ver, sp, a, code, now)
	if err != nil {
		return nil, err
	}
	if err := st.CreateVerification(ctx, ver); err != nil {
		return nil, err
	}
	if err := st.EnqueueOutbox(ctx, row); err != nil {
		return nil, err
	}
	return ver, nil
}

// resend sends cur's code again, on the channel of this request.
func (v *Verifier) resend(ctx context.Context, st Store, svc *Service, cur *Verification, sp *sendPlan, a *SendAttempt, now time.Time) (*Verification, error) {
	code := sp.customCode
	var hash []byte
	switch {
	case code != "":
		// The caller owns the code: a new custom code replaces the old.
		if !cur.CustomCode {
			return nil, Errorf(EInvalidParam, "Invalid parameter: CustomCode (the pending verification of this To has a generated code)")
		}
		hash = codeHash(v.codeKeys()[0], cur.Sid, code)
	case cur.CustomCode:
		return nil, Errorf(EInvalidParam, "Invalid parameter: CustomCode (required to send a custom code again)")
	default:
		var err error
		if code, err = v.resendCode(cur); err != nil {
			return nil, err
		}
	}
	a.VerificationSid = cur.Sid
	row, err := v.codeRow(svc, cur, sp, a, code, now)
	if err != nil {
		return nil, err
	}
	n, err := st.ResendVerification(ctx, cur.Sid, a, hash, v.maxSends(), now)
	if err != nil {
		return nil, err
	}
	if err := st.EnqueueOutbox(ctx, row); err != nil {
		return nil, err
	}
	cur.Sends, cur.Channel, cur.DateUpdated = n, sp.channel, now
	if cur.Attempts, err = st.ListSendAttempts(ctx, cur.Sid); err != nil {
		return nil, err
	}
	return cur, nil
}

// codeRow renders the message of one send and returns its outbox row,
// due now and worth retrying until the verification expires.
func (v *Verifier) codeRow(svc *Service, ver *Verification, sp *sendPlan, a *SendAttempt, code string, now time.Time) (*OutboxMessage, error) {
	in := message.Input{Channel: sp.channel, Locale: sp.locale, FriendlyName: sp.friendlyName, Code: code,
		TTLMinutes: int(VerificationTTL / time.Minute), DoNotShare: svc.DoNotShareWarningEnabled, AppHash: sp.appHash,
		Template: sp.template, Substitutions: sp.substitutions, DtmfInputRequired: svc.DtmfInputRequired}
	if ver.Amount != nil {
		in.Amount, in.Payee = *ver.Amount, *ver.Payee
	}
	if sp.template == nil && svc.DefaultTemplateSid != "" {
		if t, ok := message.Find(svc.DefaultTemplateSid); ok {
			in.Template = &t
		}
	}
	d := &CodeDelivery{AttemptSid: a.Sid, VerificationSid: ver.Sid, ServiceSid: ver.ServiceSid, AccountSid: ver.AccountSid,
		Channel: sp.channel, To: sp.to, Country: sp.country, Locale: sp.locale, FriendlyName: sp.friendlyName,
		TTLSeconds: int(ver.ExpiresAt.Sub(now) / time.Second), ExpiresAt: ver.ExpiresAt, CreatedAt: now,
		AppHash: sp.appHash, Tags: sp.tags, Code: code}
	var err error
	switch sp.channel {
	case ChannelSMS:
		d.Text, err = message.SMS(in)
		d.MessagingServiceSid = string(sp.messagingService)
	case ChannelCall:
		d.Text, err = message.Call(in)
		d.Voice = &CodeVoice{SendDigits: sp.sendDigits, RequireKeypress: svc.DtmfInputRequired, TTSVoice: svc.TtsName}
	case ChannelWhatsapp:
		d.Text = message.WhatsApp(in)
		d.From = svc.Whatsapp.From
		d.MessagingServiceSid = svc.Whatsapp.MsgServiceSid
	case ChannelEmail:
		in.Substitutions = sp.emailSubs
		d.EmailVars = message.EmailVars(in)
		d.Text = d.EmailVars["twilio_message"]
		d.Email = sp.email
	}
	if err != nil {
		return nil, errMessage(err)
	}
	payload, err := v.sealDelivery(d)
	if err != nil {
		return nil, err
	}
	return &OutboxMessage{ID: string(a.Sid), Kind: OutboxCode, Account: ver.AccountSid, Ref: string(ver.Sid), Payload: payload,
		Status: OutboxPending, NextAttempt: now, Deadline: ver.ExpiresAt, DateCreated: now}, nil
}

// verificationPath is the path a missing verification is reported under.
func verificationPath(service Sid, sid string) string {
	return "/Services/" + string(service) + "/Verifications/" + sid
}

// liveVerification finds the verification a path names, with its
// attempts (fetch and update show them): a VE SID, or the To of a live one (Twilio's docs update verifications by phone number).
// It answers ENotFound for one that is not pending at now; with canceled
// also for a canceled one still inside its lifetime (fetch shows those).
func (v *Verifier) liveVerification(ctx context.Context, service Sid, sidOrTo string, canceled bool) (*Verification, error) {
	var ver *Verification
	var err error
	if Sid(sidOrTo).Valid(PrefixVerification) {
		ver, err = v.Store.FindVerification(ctx, service, Sid(sidOrTo))
	} else if to, ok := NormalizeTo(sidOrTo); ok {
		ver, err = v.Store.FindVerificationTo(ctx, service, to)
	} else {
		return nil, notFound(verificationPath(service, sidOrTo))
	}
	if IsCode(err, ENotFound) {
		return nil, notFound(verificationPath(service, sidOrTo))
	}
	if err != nil {
		return nil, err
	}
	now := v.now()
	switch st := ver.StatusAt(now); {
	case st == VerificationPending:
	case st == VerificationCanceled && canceled && now.Before(ver.ExpiresAt):
	default:
		return nil, notFound(verificationPath(service, sidOrTo))
	}
	if ver.Attempts, err = v.Store.ListSendAttempts(ctx, ver.Sid); err != nil {
		return nil, err
	}
	return ver, nil
}

// NormalizeTo reads a To of any channel, a phone number or an address, as
// verifications store it (E.164; the domain in lower case), so that
// "+1 415 555 2671" finds what "+14155552671" started.
func NormalizeTo(to string) (string, bool) {
	if n, err := phone.Parse(to); err == nil {
		return n.E164, true
	}
	if a, err := phone.Email(to); err == nil {
		return a, true
	}
	return "", false
}

// FetchVerification returns a pending verification (or a canceled one,
// until it would have expired), by SID or by To.
func (v *Verifier) FetchVerification(ctx context.Context, account, service Sid, sidOrTo string) (*Verification, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	ver, err := v.liveVerification(ctx, service, sidOrTo, true)
	if err != nil {
		return nil, err
	}
	// Status polls are limited per verification, as Twilio limits them.
	if err := v.throttle(ctx, "poll:"+string(ver.Sid), v.limits().StatusPolls); err != nil {
		return nil, err
	}
	return ver, nil
}

// UpdateVerification approves or cancels a pending verification. Approving
// is how a custom-code user reports that the code was right; canceling
// lets the next create start over with a new code.
func (v *Verifier) UpdateVerification(ctx context.Context, account, service Sid, sidOrTo string, status *string) (*Verification, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	if status == nil || *status == "" {
		return nil, missing(EInvalidParam, "Status")
	}
	to := VerificationStatus(*status)
	if to != VerificationCanceled && to != VerificationApproved {
		return nil, invalid("Status")
	}
	ver, err := v.liveVerification(ctx, service, sidOrTo, false)
	if err != nil {
		return nil, err
	}
	now := v.now()
	if err := v.Store.SetVerificationStatus(ctx, ver.Sid, to, now); err != nil {
		if IsCode(err, ENotFound) {
			return nil, notFound(verificationPath(service, sidOrTo))
		}
		return nil, err
	}
	ver.Status, ver.DateUpdated = to, now
	if to == VerificationApproved {
		for _, a := range ver.Attempts {
			a.Converted = true
		}
	}
	return ver, nil
}
