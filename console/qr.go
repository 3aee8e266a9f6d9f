package console

import (
	"encoding/base64"
	"html/template"

	"rsc.io/qr"
)

// qrScale is the side of one QR module in image pixels. The page shows
// the code at a fixed size (img.qr in console.css), so the PNG only needs
// enough pixels per module that scaling it down stays sharp and a camera,
// or a decoder given the file itself, finds the modules.
const qrScale = 8

// qrDataURL renders text as a QR code on the server and returns it as a
// data: URL of a PNG, which the page's CSP allows as an image: the secret
// in an otpauth URI never leaves the server for a QR service, and the
// page needs no script to draw it. Level M (about 15% of the modules may
// be lost) suits a code read off a screen. rsc.io/qr writes a quiet zone
// of four modules around the code, as the standard asks.
func qrDataURL(text string) (template.URL, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	code.Scale = qrScale
	// template.URL: html/template would otherwise refuse a data: URL in
	// src; this one is base64 we made, with nothing of the user's to escape.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(code.PNG())), nil
}
