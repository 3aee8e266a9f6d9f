package console

import (
	"bytes"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
)

// pages are the templates, each page parsed with the layout it fills.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"datePtr": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"join": strings.Join,
}

func mustParsePages() *pages {
	p := &pages{byName: map[string]*template.Template{}}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		p.byName[strings.TrimSuffix(base, ".html")] = template.Must(
			template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", name))
	}
	return p
}

// view is what every page gets: its own data and the layout's.
type view struct {
	Title string
	// SignedIn, Account and User say who is signed in: the account, and
	// the account or API key SID that signed in.
	SignedIn bool
	Account  verify.Sid
	User     string
	ByKey    bool // an API key signed in: no keys pages
	CSRF     string
	Dev      bool
	Nav      string // the section the page belongs to, to mark it in the menu
	Flash    string
	Error    string
	Data     any
}

// render writes page name with data, into a buffer first, so that a
// template error is a clean 500 and not half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t := c.pages.byName[name]
	if t == nil {
		c.fail(w, r, errors.New("no page "+name))
		return
	}
	if se := current(r); se != nil {
		v.SignedIn, v.Account, v.User, v.CSRF = true, se.account, se.user, se.csrf
		v.ByKey = verify.Sid(se.user).Valid(verify.PrefixAPIKey)
	}
	v.Dev = c.cfg.Inbox != nil
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an error of the server itself: logged, and a page that
// says no more than that.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Logger.Error("console", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// problem renders what the Verifier refused: its Twilio code and message
// on the page the form came from, with the HTTP status the API answers
// (api.StatusOf). An error that is not the Verifier's is the server's.
func (c *Console) problem(w http.ResponseWriter, r *http.Request, err error, name string, v view) {
	var e *verify.Error
	if !errors.As(err, &e) || e.Code == verify.EInternal {
		c.fail(w, r, err)
		return
	}
	v.Error = e.Message + " (" + strconv.Itoa(e.Code) + ")"
	c.render(w, r, api.StatusOf(e.Code), name, v)
}

// static serves the console's CSS, scripts and images.
func (c *Console) static() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	return http.StripPrefix(Prefix+"/static/", http.FileServerFS(sub))
}
