package smtp

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
)

// Template is an e-mail template with SendGrid's handlebars placeholders,
// as Twilio's e-mail templates are: {{name}} is HTML-escaped in the HTML
// part, {{{name}}} inserted as is; Subject and Text are plain text.
type Template struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// ErrNoCodePlaceholder is a template that would send no code (Twilio's
// 60219).
var ErrNoCodePlaceholder = errors.New("smtp: template contains none of twilio_code, twilio_message, twilio_message_without_code")

// DefaultTemplate is what a code e-mail looks like unless the request
// names another (ChannelConfiguration.template_id).
var DefaultTemplate = Template{
	Name:    "default",
	Subject: "Your {{twilio_service_name}} verification code",
	Text:    "{{twilio_message}}\n\nThis code expires in 10 minutes. If you did not ask for it, ignore this e-mail.\n",
	HTML: `<!doctype html><html><body style="margin:0;padding:24px;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2328">
<div style="max-width:480px;margin:0 auto;background:#fff;border-radius:8px;padding:32px">
<p style="margin:0 0 16px;font-size:16px">{{twilio_message_without_code}}</p>
<p style="margin:0 0 24px;font-size:32px;font-weight:bold;letter-spacing:6px">{{twilio_code}}</p>
<p style="margin:0;font-size:13px;color:#59636e">This code expires in 10 minutes. If you did not ask for it, ignore this e-mail.</p>
</div></body></html>
`,
}

// Check refuses a template that would send no code.
func (t Template) Check() error {
	for _, part := range []string{t.Text, t.HTML} {
		for _, v := range []string{"twilio_code", "twilio_message", "twilio_message_without_code"} {
			if strings.Contains(part, "{{"+v+"}}") || strings.Contains(part, "{{{"+v+"}}}") {
				return nil
			}
		}
	}
	return ErrNoCodePlaceholder
}

// LoadTemplates reads every *.json file of dir as a Template, named by its
// name field or else its file name, each checked.
func LoadTemplates(dir string) (map[string]Template, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]Template{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var t Template
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		if t.Name == "" {
			t.Name = strings.TrimSuffix(filepath.Base(f), ".json")
		}
		if err := t.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[t.Name] = t
	}
	return out, nil
}

// Render fills the template from vars; a placeholder with no value
// renders empty.
func (t Template) Render(vars map[string]string) (subject, text, htmlPart string) {
	return fill(t.Subject, vars, false), fill(t.Text, vars, false), fill(t.HTML, vars, true)
}

func fill(s string, vars map[string]string, escape bool) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		raw := strings.HasPrefix(s[i:], "{{{")
		open, closing := "{{", "}}"
		if raw {
			open, closing = "{{{", "}}}"
		}
		j := strings.Index(s[i+len(open):], closing)
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		v := vars[strings.TrimSpace(s[i+len(open):i+len(open)+j])]
		if escape && !raw {
			v = html.EscapeString(v)
		}
		b.WriteString(v)
		s = s[i+len(open)+j+len(closing):]
	}
}
