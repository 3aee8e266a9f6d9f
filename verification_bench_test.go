package verify_test

import (
	"fmt"
	"testing"

	"github.com/verifyd/verify"
)

// BenchmarkVerificationCreateCheck starts a verification by SMS (the
// verification, its attempt and its sealed outbox row in one fsynced
// transaction) and checks it with the right code (the reserved check and
// the approval), one To per iteration. A custom code lets the benchmark
// know the code without opening the outbox. Nothing is delivered: the
// sender's cost is the worker's, measured by verifyd bench --workloads
// deliveries.
func BenchmarkVerificationCreateCheck(b *testing.B) {
	e := newBenchEnv(b)
	e.v.CodeChannels = map[string]bool{verify.ChannelSMS: true}
	on := true
	if _, err := e.v.UpdateService(e.ctx, benchAccount, e.service, verify.ServiceParams{CustomCodeEnabled: &on}); err != nil {
		b.Fatal(err)
	}
	sms, code := verify.ChannelSMS, "482913"
	b.ResetTimer()
	for i := range b.N {
		to := fmt.Sprintf("+447400%06d", i%1000000)
		if _, err := e.v.CreateVerification(e.ctx, benchAccount, e.service, verify.VerificationParams{To: &to, Channel: &sms, CustomCode: &code}); err != nil {
			b.Fatal(err)
		}
		v, err := e.v.CheckVerification(e.ctx, benchAccount, e.service, verify.VerificationCheckParams{To: &to, Code: &code})
		if err != nil || v.Status != verify.VerificationApproved {
			b.Fatalf("check: %+v %v", v, err)
		}
	}
}
