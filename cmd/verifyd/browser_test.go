package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Chromium, or skips the test where it is not
// installed; in CI its absence fails, so that a browser test cannot stop
// running unnoticed.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("chromium is not installed (CI is set): %v", err)
	}
	t.Skipf("chromium is not installed (apt-get install chromium): %v", err)
	return ""
}

// newBrowser starts headless Chromium for the test, with its own profile,
// and closes it when the test ends. Without its sandbox: CI runs the
// tests as root, which the sandbox refuses.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		// Chromium leaves its singleton directory in TMPDIR: keep it in the test's.
		chromedp.Env("TMPDIR="+t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser); err != nil { // starts it
		t.Fatalf("starting %s: %v", path, err)
	}
	return browser
}

// tab is one tab of a browser test with a 1280x800 viewport (the size of
// the screenshots), in a browser context of its own: its cookies are its
// own, as another person's browser would be. It records what the page
// logs, so that a test can fail on a script error or a blocked resource
// that the page itself would survive.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
}

// newTab opens a tab in browser that lives until the test ends, or for
// timeout at most.
func newTab(t *testing.T, browser context.Context, timeout time.Duration) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	p := &tab{t: t, ctx: ctx}
	p.do(chromedp.EmulateViewport(1280, 800)) // opens the tab
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.log = append(p.log, m)
			p.mu.Unlock()
		}
	}()
	return p
}

// do runs actions on the page, failing the test on an error.
func (p *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// open loads url and returns the response of the document it ends on,
// after any redirect.
func (p *tab) open(url string) *network.Response {
	p.t.Helper()
	r, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.t.Fatalf("opening %s: %v", url, err)
	}
	return r
}

// follow runs actions that load another page (a click on a link or a
// button of a form) and returns the response of the page loaded.
func (p *tab) follow(actions ...chromedp.Action[chromedp.Void]) *network.Response {
	p.t.Helper()
	r, err := chromedp.RunResponse(p.ctx, actions...)
	if err != nil {
		p.t.Fatalf("no page loaded: %v", err)
	}
	return r
}

// click presses the element of selector, which loads a page, and returns
// that page's response.
func (p *tab) click(selector string) *network.Response {
	p.t.Helper()
	return p.follow(chromedp.Click(chromedp.CSS(selector)))
}

// tabEval evaluates a JavaScript expression on the page; a promise is
// awaited.
func tabEval[T any](p *tab, expression string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", expression, err)
	}
	return v
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// texts returns the trimmed text of every element that selector matches,
// in document order.
func (p *tab) texts(selector string) []string {
	p.t.Helper()
	return tabEval[[]string](p, `[...document.querySelectorAll(`+jsString(selector)+`)].map((e) => e.textContent.trim())`)
}

// has says whether an element matches selector.
func (p *tab) has(selector string) bool {
	p.t.Helper()
	return tabEval[bool](p, `document.querySelector(`+jsString(selector)+`) !== null`)
}

// text is the trimmed text of the one element of selector, or "" when
// there is none.
func (p *tab) text(selector string) string {
	p.t.Helper()
	return tabEval[string](p, `document.querySelector(`+jsString(selector)+`)?.textContent.trim() ?? ""`)
}

// location is the page's path and query.
func (p *tab) location() string {
	p.t.Helper()
	return tabEval[string](p, `location.pathname + location.search`)
}

// cookies returns the browser's cookies for url, HttpOnly ones included.
func (p *tab) cookies(url string) map[string]*network.Cookie {
	p.t.Helper()
	res, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		p.t.Fatalf("Network.getCookies: %v", err)
	}
	m := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		m[c.Name] = c
	}
	return m
}

// problems returns what the page logged that a working page does not:
// uncaught exceptions, and anything the Content-Security-Policy blocked.
func (p *tab) problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.log {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || m.Source == "security" {
			out = append(out, m.String())
		}
	}
	return out
}

// rows returns the text of each cell of each row of a table's body.
func (p *tab) rows(table string) [][]string {
	p.t.Helper()
	return tabEval[[][]string](p, `[...document.querySelectorAll(`+jsString(table+" tbody tr")+`)].map((tr) => [...tr.cells].map((td) => td.textContent.trim()))`)
}
