package message

import "strings"

// Locales are the locale tags Twilio's default template supports
// (verifications.md §8.3). A request may name any of them; one verifyd had
// no sentences for would be written in English, so that a client passing
// it does not start getting 404s because a translation is missing.
var Locales = []string{
	"af", "ar", "ca", "zh", "zh-CN", "zh-HK", "hr", "cs", "da", "nl", "en", "en-GB", "fi", "fr", "de", "el",
	"he", "hi", "hu", "id", "it", "ja", "ko", "ms", "nb", "pl", "pt", "pt-BR", "ro", "ru", "es", "sv", "tl",
	"th", "tr", "vi", "et", "kn", "lt", "mr", "sk", "te",
}

// phrases are one locale's sentences. psd2 takes the amount and payee.
type phrases struct {
	code, withoutCode, noShare, psd2, pressKey string
}

// sentences are the locales verifyd writes in their own words: these,
// and translated (translations.go) for every other tag of Locales. A
// locale without any would use English (see Locales).
var sentences = withTranslations(map[string]phrases{
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
})

// localeOf returns the phrases of a resolved locale, English for one
// without its own.
func localeOf(tag string) phrases {
	if p, ok := sentences[tag]; ok {
		return p
	}
	return sentences["en"]
}

// countryLocale picks a destination country's locale when the request
// names none: the language most of its people read their texts in. Any
// other country gets English.
var countryLocale = map[string]string{
	// English, also where it is the language of texts beside a local one (India)
	"GB": "en-GB", "ZA": "en", "PH": "en", "IN": "en", "NG": "en", "KE": "en",
	// Spanish: Spain, Equatorial Guinea and Spanish-speaking America
	"ES": "es", "GQ": "es", "MX": "es", "GT": "es", "HN": "es", "SV": "es", "NI": "es", "CR": "es", "PA": "es",
	"CU": "es", "DO": "es", "PR": "es", "CO": "es", "VE": "es", "EC": "es", "PE": "es", "BO": "es", "CL": "es",
	"AR": "es", "PY": "es", "UY": "es",
	// French: France, Belgium, Luxembourg, Monaco, Haiti and French-speaking Africa
	"FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr", "HT": "fr", "SN": "fr", "CI": "fr", "ML": "fr", "BF": "fr",
	"NE": "fr", "TG": "fr", "BJ": "fr", "GN": "fr", "GA": "fr", "CG": "fr", "CD": "fr", "CM": "fr", "MG": "fr",
	// German, Italian, Dutch, Catalan
	"DE": "de", "AT": "de", "CH": "de", "LI": "de",
	"IT": "it", "SM": "it", "VA": "it",
	"NL": "nl", "SR": "nl",
	"AD": "ca",
	// Portuguese
	"PT": "pt", "AO": "pt", "MZ": "pt", "CV": "pt", "GW": "pt", "ST": "pt", "BR": "pt-BR",
	// Nordic and Baltic
	"SE": "sv", "NO": "nb", "DK": "da", "FI": "fi", "EE": "et", "LT": "lt",
	// Central and Eastern Europe
	"PL": "pl", "CZ": "cs", "SK": "sk", "HU": "hu", "HR": "hr", "RO": "ro", "MD": "ro",
	"RU": "ru", "BY": "ru", "KZ": "ru", "KG": "ru",
	// Greek, Turkish, Hebrew
	"GR": "el", "CY": "el", "TR": "tr", "IL": "he",
	// Arabic
	"SA": "ar", "AE": "ar", "EG": "ar", "MA": "ar", "DZ": "ar", "TN": "ar", "JO": "ar", "KW": "ar", "QA": "ar",
	"BH": "ar", "OM": "ar", "LB": "ar", "IQ": "ar", "LY": "ar", "YE": "ar", "SY": "ar", "SD": "ar", "PS": "ar",
	// Asia
	"ID": "id", "MY": "ms", "BN": "ms", "TH": "th", "VN": "vi", "JP": "ja", "KR": "ko",
	"CN": "zh-CN", "HK": "zh-HK", "MO": "zh-HK", "TW": "zh-HK",
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
