package message

import "strings"

// Locales are the locale tags Twilio's default template supports
// (verifications.md §8.3). A request may name any of them; one verifyd has
// no sentences for is written in English, so that a client passing
// Locale=ko does not start getting 404s because a translation is missing.
var Locales = []string{
	"af", "ar", "ca", "zh", "zh-CN", "zh-HK", "hr", "cs", "da", "nl", "en", "en-GB", "fi", "fr", "de", "el",
	"he", "hi", "hu", "id", "it", "ja", "ko", "ms", "nb", "pl", "pt", "pt-BR", "ro", "ru", "es", "sv", "tl",
	"th", "tr", "vi", "et", "kn", "lt", "mr", "sk", "te",
}

// phrases are one locale's sentences. psd2 takes the amount and payee.
type phrases struct {
	code, withoutCode, noShare, psd2, pressKey string
}

// sentences are the locales verifyd writes in their own words; the rest
// of Locales use English (see Locales) until someone who speaks them
// adds theirs here.
var sentences = map[string]phrases{
	"en": {
		code:        "Your {{friendly_name}} verification code is: {{code}}.",
		withoutCode: "Your {{friendly_name}} verification code is:",
		noShare:     "Don’t share this code with anyone; our employees will never ask for the code.",
		psd2:        "Amount: %s. Payee: %s",
		pressKey:    "Press any key to hear your code.",
	},
	"es": {
		code:        "Tu código de verificación de {{friendly_name}} es: {{code}}.",
		withoutCode: "Tu código de verificación de {{friendly_name}} es:",
		noShare:     "No compartas este código con nadie; nuestros empleados nunca te lo pedirán.",
		psd2:        "Importe: %s. Beneficiario: %s",
		pressKey:    "Pulsa cualquier tecla para escuchar tu código.",
	},
	"fr": {
		code:        "Votre code de vérification {{friendly_name}} est : {{code}}.",
		withoutCode: "Votre code de vérification {{friendly_name}} est :",
		noShare:     "Ne partagez ce code avec personne ; nos employés ne vous le demanderont jamais.",
		psd2:        "Montant : %s. Bénéficiaire : %s",
		pressKey:    "Appuyez sur une touche pour entendre votre code.",
	},
	"de": {
		code:        "Ihr {{friendly_name}} Bestätigungscode lautet: {{code}}.",
		withoutCode: "Ihr {{friendly_name}} Bestätigungscode lautet:",
		noShare:     "Geben Sie diesen Code an niemanden weiter; unsere Mitarbeiter werden Sie nie danach fragen.",
		psd2:        "Betrag: %s. Empfänger: %s",
		pressKey:    "Drücken Sie eine beliebige Taste, um Ihren Code zu hören.",
	},
	"it": {
		code:        "Il tuo codice di verifica {{friendly_name}} è: {{code}}.",
		withoutCode: "Il tuo codice di verifica {{friendly_name}} è:",
		noShare:     "Non condividere questo codice con nessuno; i nostri dipendenti non te lo chiederanno mai.",
		psd2:        "Importo: %s. Beneficiario: %s",
		pressKey:    "Premi un tasto qualsiasi per ascoltare il tuo codice.",
	},
	"pt": {
		code:        "O seu código de verificação {{friendly_name}} é: {{code}}.",
		withoutCode: "O seu código de verificação {{friendly_name}} é:",
		noShare:     "Não partilhe este código com ninguém; os nossos funcionários nunca o pedirão.",
		psd2:        "Montante: %s. Beneficiário: %s",
		pressKey:    "Prima qualquer tecla para ouvir o seu código.",
	},
	"pt-BR": {
		code:        "Seu código de verificação {{friendly_name}} é: {{code}}.",
		withoutCode: "Seu código de verificação {{friendly_name}} é:",
		noShare:     "Não compartilhe este código com ninguém; nossos funcionários nunca vão pedi-lo.",
		psd2:        "Valor: %s. Favorecido: %s",
		pressKey:    "Pressione qualquer tecla para ouvir seu código.",
	},
	"nl": {
		code:        "Je {{friendly_name}} verificatiecode is: {{code}}.",
		withoutCode: "Je {{friendly_name}} verificatiecode is:",
		noShare:     "Deel deze code met niemand; onze medewerkers zullen er nooit om vragen.",
		psd2:        "Bedrag: %s. Begunstigde: %s",
		pressKey:    "Druk op een toets om je code te horen.",
	},
}

// localeOf returns the phrases of a resolved locale, English for one
// without its own.
func localeOf(tag string) phrases {
	if p, ok := sentences[tag]; ok {
		return p
	}
	return sentences["en"]
}

// countryLocale picks a destination country's locale when the request
// names none; any other country gets English.
var countryLocale = map[string]string{
	"ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es", "FR": "fr", "BE": "fr", "DE": "de",
	"AT": "de", "IT": "it", "PT": "pt", "BR": "pt-BR", "NL": "nl", "GB": "en-GB",
}

// ResolveLocale returns the locale of a message: the requested tag
// matched case-insensitively against Locales ("pt-br" is pt-BR, "es-MX"
// falls back to es), else the destination country's, else en. A requested
// tag that is not one of Locales is ErrUnsupportedLocale (Twilio answers
// 404).
func ResolveLocale(requested, country string) (string, error) {
	if requested == "" {
		if l, ok := countryLocale[strings.ToUpper(country)]; ok {
			return l, nil
		}
		return "en", nil
	}
	for _, l := range Locales {
		if strings.EqualFold(l, requested) {
			return l, nil
		}
	}
	if base, _, ok := strings.Cut(requested, "-"); ok {
		for _, l := range Locales {
			if strings.EqualFold(l, base) {
				return l, nil
			}
		}
	}
	return "", ErrUnsupportedLocale
}
