package verify

import (
	"context"
	"time"

	"github.com/verifyd/verify/phone"
)

// SafeNumber is a phone number on the account's Safe List (GN): geo
// permissions never block a code sent to it (verifications.md §6).
type SafeNumber struct {
	Sid         Sid
	AccountSid  Sid
	PhoneNumber string // E.164
	DateCreated time.Time
}

// PrefixSafeNumber marks a Safe List entry.
const PrefixSafeNumber = "GN"

// ESafeListed is Twilio's code for a number already on the Safe List.
const ESafeListed = 60411

func safeNumberNotFound(number string) error {
	return notFound("/SafeList/Numbers/" + number)
}

// The Safe List API is limited per account (Limits.SafeListAPI), as
// Twilio limits it; a request over the limit changes nothing.

// AddSafeNumber puts a number on the account's Safe List: E.164 and a
// valid number of its country (60200 otherwise), once (60411).
func (v *Verifier) AddSafeNumber(ctx context.Context, account Sid, number *string) (*SafeNumber, error) {
	if number == nil || *number == "" {
		return nil, missing(EInvalidParam, "PhoneNumber")
	}
	if err := v.throttle(ctx, "safelist:"+string(account), v.limits().SafeListAPI); err != nil {
		return nil, err
	}
	n, err := phone.Parse(*number)
	if err != nil {
		return nil, invalid("PhoneNumber")
	}
	sid, err := v.newSid(PrefixSafeNumber)
	if err != nil {
		return nil, err
	}
	s := &SafeNumber{Sid: sid, AccountSid: account, PhoneNumber: n.E164, DateCreated: v.now()}
	if err := v.Store.AddSafeNumber(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// FetchSafeNumber returns the account's Safe List entry of number.
func (v *Verifier) FetchSafeNumber(ctx context.Context, account Sid, number string) (*SafeNumber, error) {
	if err := v.throttle(ctx, "safelist:"+string(account), v.limits().SafeListAPI); err != nil {
		return nil, err
	}
	n, err := phone.Parse(number)
	if err != nil {
		return nil, safeNumberNotFound(number)
	}
	return v.Store.FindSafeNumber(ctx, account, n.E164)
}

// RemoveSafeNumber takes number off the account's Safe List.
func (v *Verifier) RemoveSafeNumber(ctx context.Context, account Sid, number string) error {
	if err := v.throttle(ctx, "safelist:"+string(account), v.limits().SafeListAPI); err != nil {
		return err
	}
	n, err := phone.Parse(number)
	if err != nil {
		return safeNumberNotFound(number)
	}
	return v.Store.RemoveSafeNumber(ctx, account, n.E164)
}
