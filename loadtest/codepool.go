package loadtest

import (
	"sync"
	"time"

	"github.com/verifyd/verify/otp"
)

// totpFactor is one provisioned TOTP factor whose secret the tool knows.
type totpFactor struct {
	sid      string
	identity string
	secret   []byte
	// next is the lowest time step not yet handed out (or used to verify
	// the factor). verifyd accepts a step only if it starts at or after the
	// end of the last accepted one, so steps must be used in increasing
	// order, one request at a time per factor.
	next int64
}

// codePool hands out (factor, time step) pairs that were never handed out
// before and that verifyd will accept: a step inside the factor's window
// [now-skew, now+skew], above every step the factor used, for a factor no
// other request is using. It never repeats a pair, so every request of the
// fresh-code workload carries a code the server has not seen, and it
// reports exhaustion instead of falling back to a replay.
type codePool struct {
	mu     sync.Mutex
	now    func() time.Time
	period int64
	skew   int64
	margin time.Duration // how close to a step's end its oldest step is still handed out

	queue     []*totpFactor // idle factors with maybe a step left, oldest first
	head      int
	exhausted []*totpFactor // idle factors whose next step is beyond the window
	lastHi    int64
	handed    int64
}

func newCodePool(now func() time.Time, period, skew int, factors []*totpFactor) *codePool {
	p := &codePool{now: now, period: int64(period), skew: int64(skew), margin: 2 * time.Second}
	p.queue = append(p.queue, factors...)
	return p
}

// window returns the lowest and highest step the server accepts now. The
// oldest step is left out in the last seconds of the current step: the
// server checks the code a little later than the client picks it, and by
// then that step may have slid out of its window.
func (p *codePool) window() (lo, hi int64) {
	now := p.now()
	cur := now.Unix() / p.period
	lo, hi = cur-p.skew, cur+p.skew
	end := time.Unix((cur+1)*p.period, 0)
	if end.Sub(now) < p.margin {
		lo++
	}
	return lo, hi
}

// take returns an idle factor and an unused step of it, and marks both as
// taken; ok is false if no factor has a usable step now. The caller must
// give the factor back with put when its request has been answered.
func (p *codePool) take() (f *totpFactor, step int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lo, hi := p.window()
	if hi != p.lastHi { // a new step opened: exhausted factors have one more
		p.lastHi = hi
		p.queue = append(p.queue, p.exhausted...)
		p.exhausted = p.exhausted[:0]
	}
	for p.head < len(p.queue) {
		f := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if p.head > 1024 && p.head*2 > len(p.queue) { // reclaim the consumed front
			p.queue = append(p.queue[:0], p.queue[p.head:]...)
			p.head = 0
		}
		step := max(f.next, lo)
		if step <= hi {
			f.next = step + 1
			p.handed++
			return f, step, true
		}
		p.exhausted = append(p.exhausted, f)
	}
	return nil, 0, false
}

// withCode takes a factor and an unused step of it, gives fn the step's
// code, and puts the factor back when fn returns; errDry if no factor has
// a usable step now.
func (p *codePool) withCode(fn func(f *totpFactor, code string) error) error {
	f, step, ok := p.take()
	if !ok {
		return errDry
	}
	defer p.put(f)
	code, err := otp.HOTP(f.secret, uint64(step), "sha1", benchDigits)
	if err != nil {
		return err
	}
	return fn(f, code)
}

// put returns a factor taken with take. Its step counts as used whatever
// the answer was: a step is never handed out twice.
func (p *codePool) put(f *totpFactor) {
	p.mu.Lock()
	p.queue = append(p.queue, f)
	p.mu.Unlock()
}

// verifyStep returns the step to verify a new factor with: the oldest one
// the window allows, which leaves the most steps for the timed run.
func (p *codePool) verifyStep() int64 {
	lo, _ := p.window()
	return lo
}
