package verify

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/verifyd/verify/message"
)

// TemplatesReleased is the date_created of the built-in templates: they
// are part of the release, not of any account.
var TemplatesReleased = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// ListTemplates pages through the templates an account may use (the
// built-in ones, message.BuiltIn), in SID order, optionally only those
// whose friendly name equals friendlyName, case-insensitively.
func (v *Verifier) ListTemplates(_ context.Context, _ Sid, friendlyName string, p Page) ([]message.Template, bool, error) {
	var all []message.Template
	for _, t := range message.BuiltIn() {
		if friendlyName == "" || strings.EqualFold(t.FriendlyName, friendlyName) {
			all = append(all, t)
		}
	}
	slices.SortFunc(all, func(a, b message.Template) int { return strings.Compare(a.Sid, b.Sid) })
	switch {
	case p.After != nil:
		i, _ := slices.BinarySearchFunc(all, string(p.After.Sid), func(t message.Template, s string) int {
			return strings.Compare(t.Sid, s)
		})
		if i < len(all) && all[i].Sid == string(p.After.Sid) {
			i++
		}
		all = all[i:]
	case p.Before != nil:
		i, _ := slices.BinarySearchFunc(all, string(p.Before.Sid), func(t message.Template, s string) int {
			return strings.Compare(t.Sid, s)
		})
		all = all[:i]
		if len(all) > p.Size {
			return all[len(all)-p.Size:], true, nil
		}
		return all, false, nil
	}
	if len(all) > p.Size {
		return all[:p.Size], true, nil
	}
	return all, false, nil
}
