package jws

import (
	"bytes"
	"encoding/asn1"
	"math/big"
)

// unmarshalDER decodes SEQUENCE { r INTEGER, s INTEGER } with no trailing
// bytes, and only in its one DER spelling: encoding/asn1 lets a SEQUENCE
// carry elements after the two it fills (30 08 02 01 01 02 01 01 05 00
// read as r=1, s=1), so the result is encoded again and must give back der.
func unmarshalDER(der []byte, r, s **big.Int) error {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 {
		return ErrMalformed
	}
	if again, err := asn1.Marshal(sig); err != nil || !bytes.Equal(again, der) {
		return ErrMalformed
	}
	*r, *s = sig.R, sig.S
	return nil
}
