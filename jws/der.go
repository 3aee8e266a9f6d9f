package jws

import (
	"encoding/asn1"
	"math/big"
)

// unmarshalDER decodes SEQUENCE { r INTEGER, s INTEGER } with no trailing
// bytes.
func unmarshalDER(der []byte, r, s **big.Int) error {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 {
		return ErrMalformed
	}
	*r, *s = sig.R, sig.S
	return nil
}
