// Package verify is the vocabulary and the rules of verifyd, a self-hosted
// server that speaks the Twilio Verify v2 REST API.
//
// The root package holds the domain types (Service, Entity, Factor,
// Challenge, AccessToken, Notification), the single error type that carries
// Twilio error codes, the Store interface the persistence layer implements,
// and Verifier, the transport-free use cases that enforce every limit and
// state transition. It imports only the standard library and the leaf
// package otp.
//
// The other packages are each named for what they wrap:
//
//	otp/        RFC 4226/6238 HOTP and TOTP
//	sqlstore/   database/sql implementation of Store (SQLite, later PostgreSQL)
//	api/        the Twilio wire format over net/http
//	cmd/verifyd the single binary
package verify
