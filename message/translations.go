package message

// translated are the sentences of the locales locales.go does not write
// itself: every other tag of Locales. They were written for verifyd, not
// by native speakers, and corrections from people who speak these
// languages are welcome. Where a language has a polite form of "you" that
// banks use, they use it; where the sentence would end after the code
// (Japanese, Korean), it ends with the code instead, so that the e-mail's
// twilio_message_without_code still reads as its beginning.
var translated = map[string]phrases{
	"af": {
		code:        "U verifikasiekode vir {{friendly_name}} is: {{code}}.",
		withoutCode: "U verifikasiekode vir {{friendly_name}} is:",
		noShare:     "Moenie hierdie kode met enigiemand deel nie; ons werknemers sal u nooit vir die kode vra nie.",
		psd2:        "Bedrag: %s. Begunstigde: %s",
		pressKey:    "Druk enige knoppie om u kode te hoor.",
	},
	"ar": {
		code:        "رمز التحقق الخاص بك في {{friendly_name}} هو: {{code}}.",
		withoutCode: "رمز التحقق الخاص بك في {{friendly_name}} هو:",
		noShare:     "لا تشارك هذا الرمز مع أي شخص؛ لن يطلب منك موظفونا الرمز أبدًا.",
		psd2:        "المبلغ: %s. المستفيد: %s",
		pressKey:    "اضغط على أي مفتاح لسماع رمزك.",
	},
	"ca": {
		code:        "El vostre codi de verificació de {{friendly_name}} és: {{code}}.",
		withoutCode: "El vostre codi de verificació de {{friendly_name}} és:",
		noShare:     "No compartiu aquest codi amb ningú; els nostres empleats no us el demanaran mai.",
		psd2:        "Import: %s. Beneficiari: %s",
		pressKey:    "Premeu qualsevol tecla per escoltar el vostre codi.",
	},
	"zh": {
		code:        "您的{{friendly_name}}验证码是：{{code}}。",
		withoutCode: "您的{{friendly_name}}验证码是：",
		noShare:     "请勿将此验证码告诉任何人；我们的工作人员绝不会向您索要验证码。",
		psd2:        "金额：%s。收款方：%s",
		pressKey:    "请按任意键收听您的验证码。",
	},
	"zh-CN": {
		code:        "您的{{friendly_name}}验证码是：{{code}}。",
		withoutCode: "您的{{friendly_name}}验证码是：",
		noShare:     "请勿将此验证码告诉任何人；我们的工作人员绝不会向您索要验证码。",
		psd2:        "金额：%s。收款方：%s",
		pressKey:    "请按任意键收听您的验证码。",
	},
	"zh-HK": {
		code:        "您的{{friendly_name}}驗證碼是：{{code}}。",
		withoutCode: "您的{{friendly_name}}驗證碼是：",
		noShare:     "請勿將此驗證碼告知任何人；我們的員工絕不會向您索取驗證碼。",
		psd2:        "金額：%s。收款人：%s",
		pressKey:    "請按任意鍵收聽您的驗證碼。",
	},
	"hr": {
		code:        "Vaš verifikacijski kôd za {{friendly_name}} je: {{code}}.",
		withoutCode: "Vaš verifikacijski kôd za {{friendly_name}} je:",
		noShare:     "Ne dijelite ovaj kôd ni s kim; naši zaposlenici nikada neće od Vas tražiti kôd.",
		psd2:        "Iznos: %s. Primatelj: %s",
		pressKey:    "Pritisnite bilo koju tipku kako biste čuli svoj kôd.",
	},
	"cs": {
		code:        "Váš ověřovací kód pro {{friendly_name}} je: {{code}}.",
		withoutCode: "Váš ověřovací kód pro {{friendly_name}} je:",
		noShare:     "Tento kód nikomu nesdělujte; naši zaměstnanci vás o něj nikdy nebudou žádat.",
		psd2:        "Částka: %s. Příjemce: %s",
		pressKey:    "Pro přehrání kódu stiskněte libovolnou klávesu.",
	},
	"da": {
		code:        "Din bekræftelseskode til {{friendly_name}} er: {{code}}.",
		withoutCode: "Din bekræftelseskode til {{friendly_name}} er:",
		noShare:     "Del ikke denne kode med nogen; vores medarbejdere vil aldrig bede om koden.",
		psd2:        "Beløb: %s. Modtager: %s",
		pressKey:    "Tryk på en vilkårlig tast for at høre din kode.",
	},
	"en-GB": {
		code:        "Your {{friendly_name}} verification code is: {{code}}.",
		withoutCode: "Your {{friendly_name}} verification code is:",
		noShare:     "Don’t share this code with anyone; our employees will never ask for the code.",
		psd2:        "Amount: %s. Payee: %s",
		pressKey:    "Press any key to hear your code.",
	},
	"fi": {
		code:        "Palvelun {{friendly_name}} vahvistuskoodisi on: {{code}}.",
		withoutCode: "Palvelun {{friendly_name}} vahvistuskoodisi on:",
		noShare:     "Älä kerro tätä koodia kenellekään; työntekijämme eivät koskaan kysy koodia sinulta.",
		psd2:        "Summa: %s. Saaja: %s",
		pressKey:    "Paina mitä tahansa näppäintä kuullaksesi koodisi.",
	},
	"el": {
		code:        "Ο κωδικός επαλήθευσής σας για το {{friendly_name}} είναι: {{code}}.",
		withoutCode: "Ο κωδικός επαλήθευσής σας για το {{friendly_name}} είναι:",
		noShare:     "Μην κοινοποιείτε αυτόν τον κωδικό σε κανέναν· οι υπάλληλοί μας δεν θα σας ζητήσουν ποτέ τον κωδικό.",
		psd2:        "Ποσό: %s. Δικαιούχος: %s",
		pressKey:    "Πατήστε οποιοδήποτε πλήκτρο για να ακούσετε τον κωδικό σας.",
	},
	"he": {
		code:        "קוד האימות שלך ל-{{friendly_name}} הוא: {{code}}.",
		withoutCode: "קוד האימות שלך ל-{{friendly_name}} הוא:",
		noShare:     "אין לשתף את הקוד הזה עם אף אחד; העובדים שלנו לעולם לא יבקשו את הקוד.",
		psd2:        "סכום: %s. מוטב: %s",
		pressKey:    "יש ללחוץ על מקש כלשהו כדי לשמוע את הקוד.",
	},
	"hi": {
		code:        "{{friendly_name}} के लिए आपका सत्यापन कोड है: {{code}}।",
		withoutCode: "{{friendly_name}} के लिए आपका सत्यापन कोड है:",
		noShare:     "यह कोड किसी के साथ साझा न करें; हमारे कर्मचारी आपसे यह कोड कभी नहीं माँगेंगे।",
		psd2:        "राशि: %s। प्राप्तकर्ता: %s",
		pressKey:    "अपना कोड सुनने के लिए कोई भी कुंजी दबाएँ।",
	},
	"hu": {
		code:        "Az Ön {{friendly_name}} ellenőrző kódja: {{code}}.",
		withoutCode: "Az Ön {{friendly_name}} ellenőrző kódja:",
		noShare:     "Ne ossza meg ezt a kódot senkivel; munkatársaink soha nem kérik el Öntől a kódot.",
		psd2:        "Összeg: %s. Kedvezményezett: %s",
		pressKey:    "A kód meghallgatásához nyomja meg bármelyik gombot.",
	},
	"id": {
		code:        "Kode verifikasi {{friendly_name}} Anda adalah: {{code}}.",
		withoutCode: "Kode verifikasi {{friendly_name}} Anda adalah:",
		noShare:     "Jangan bagikan kode ini kepada siapa pun; karyawan kami tidak akan pernah meminta kode ini.",
		psd2:        "Jumlah: %s. Penerima: %s",
		pressKey:    "Tekan tombol apa saja untuk mendengarkan kode Anda.",
	},
	"ja": {
		code:        "{{friendly_name}}の認証コード：{{code}}",
		withoutCode: "{{friendly_name}}の認証コード：",
		noShare:     "このコードは誰にも教えないでください。当社の従業員がコードをお尋ねすることは決してありません。",
		psd2:        "金額：%s。受取人：%s",
		pressKey:    "コードを聞くには、いずれかのキーを押してください。",
	},
	"ko": {
		code:        "{{friendly_name}} 인증 코드: {{code}}",
		withoutCode: "{{friendly_name}} 인증 코드:",
		noShare:     "이 코드를 다른 사람과 공유하지 마십시오. 당사 직원은 절대로 코드를 요청하지 않습니다.",
		psd2:        "금액: %s. 수취인: %s",
		pressKey:    "코드를 들으시려면 아무 키나 누르십시오.",
	},
	"ms": {
		code:        "Kod pengesahan {{friendly_name}} anda ialah: {{code}}.",
		withoutCode: "Kod pengesahan {{friendly_name}} anda ialah:",
		noShare:     "Jangan kongsi kod ini dengan sesiapa; kakitangan kami tidak akan sekali-kali meminta kod ini.",
		psd2:        "Jumlah: %s. Penerima: %s",
		pressKey:    "Tekan mana-mana kekunci untuk mendengar kod anda.",
	},
	"nb": {
		code:        "Din bekreftelseskode for {{friendly_name}} er: {{code}}.",
		withoutCode: "Din bekreftelseskode for {{friendly_name}} er:",
		noShare:     "Ikke del denne koden med noen; våre ansatte vil aldri be om koden.",
		psd2:        "Beløp: %s. Mottaker: %s",
		pressKey:    "Trykk på en hvilken som helst tast for å høre koden din.",
	},
	"pl": {
		code:        "Twój kod weryfikacyjny {{friendly_name}} to: {{code}}.",
		withoutCode: "Twój kod weryfikacyjny {{friendly_name}} to:",
		noShare:     "Nie udostępniaj tego kodu nikomu; nasi pracownicy nigdy nie poproszą Cię o ten kod.",
		psd2:        "Kwota: %s. Odbiorca: %s",
		pressKey:    "Naciśnij dowolny klawisz, aby odsłuchać swój kod.",
	},
	"ro": {
		code:        "Codul dumneavoastră de verificare {{friendly_name}} este: {{code}}.",
		withoutCode: "Codul dumneavoastră de verificare {{friendly_name}} este:",
		noShare:     "Nu comunicați acest cod nimănui; angajații noștri nu vă vor cere niciodată codul.",
		psd2:        "Sumă: %s. Beneficiar: %s",
		pressKey:    "Apăsați orice tastă pentru a asculta codul.",
	},
	"ru": {
		code:        "Ваш код подтверждения {{friendly_name}}: {{code}}.",
		withoutCode: "Ваш код подтверждения {{friendly_name}}:",
		noShare:     "Никому не сообщайте этот код; наши сотрудники никогда не попросят его у вас.",
		psd2:        "Сумма: %s. Получатель: %s",
		pressKey:    "Нажмите любую клавишу, чтобы прослушать код.",
	},
	"sv": {
		code:        "Din verifieringskod för {{friendly_name}} är: {{code}}.",
		withoutCode: "Din verifieringskod för {{friendly_name}} är:",
		noShare:     "Dela inte den här koden med någon; våra anställda kommer aldrig att be om koden.",
		psd2:        "Belopp: %s. Mottagare: %s",
		pressKey:    "Tryck på valfri knapp för att höra din kod.",
	},
	"tl": {
		code:        "Ang inyong verification code para sa {{friendly_name}} ay: {{code}}.",
		withoutCode: "Ang inyong verification code para sa {{friendly_name}} ay:",
		noShare:     "Huwag ibahagi ang code na ito kaninuman; hindi kailanman hihingin ng aming mga empleyado ang code.",
		psd2:        "Halaga: %s. Tatanggap ng bayad: %s",
		pressKey:    "Pindutin ang anumang key upang marinig ang inyong code.",
	},
	"th": {
		code:        "รหัสยืนยันสำหรับ {{friendly_name}} ของคุณคือ {{code}}",
		withoutCode: "รหัสยืนยันสำหรับ {{friendly_name}} ของคุณคือ",
		noShare:     "โปรดอย่าเปิดเผยรหัสนี้แก่ผู้ใด พนักงานของเราจะไม่ขอรหัสนี้จากคุณโดยเด็ดขาด",
		psd2:        "จำนวนเงิน: %s ผู้รับเงิน: %s",
		pressKey:    "กดปุ่มใดก็ได้เพื่อฟังรหัสของคุณ",
	},
	"tr": {
		code:        "{{friendly_name}} doğrulama kodunuz: {{code}}.",
		withoutCode: "{{friendly_name}} doğrulama kodunuz:",
		noShare:     "Bu kodu kimseyle paylaşmayın; çalışanlarımız sizden asla bu kodu istemez.",
		psd2:        "Tutar: %s. Alıcı: %s",
		pressKey:    "Kodunuzu dinlemek için herhangi bir tuşa basın.",
	},
	"vi": {
		code:        "Mã xác thực {{friendly_name}} của Quý khách là: {{code}}.",
		withoutCode: "Mã xác thực {{friendly_name}} của Quý khách là:",
		noShare:     "Tuyệt đối không chia sẻ mã này với bất kỳ ai; nhân viên của chúng tôi sẽ không bao giờ yêu cầu Quý khách cung cấp mã này.",
		psd2:        "Số tiền: %s. Người thụ hưởng: %s",
		pressKey:    "Vui lòng nhấn phím bất kỳ để nghe mã của Quý khách.",
	},
	"et": {
		code:        "Teie {{friendly_name}} kinnituskood on: {{code}}.",
		withoutCode: "Teie {{friendly_name}} kinnituskood on:",
		noShare:     "Ärge jagage seda koodi kellegagi; meie töötajad ei küsi Teilt kunagi koodi.",
		psd2:        "Summa: %s. Saaja: %s",
		pressKey:    "Koodi kuulamiseks vajutage suvalist klahvi.",
	},
	"kn": {
		code:        "ನಿಮ್ಮ {{friendly_name}} ಪರಿಶೀಲನಾ ಕೋಡ್: {{code}}.",
		withoutCode: "ನಿಮ್ಮ {{friendly_name}} ಪರಿಶೀಲನಾ ಕೋಡ್:",
		noShare:     "ಈ ಕೋಡ್ ಅನ್ನು ಯಾರೊಂದಿಗೂ ಹಂಚಿಕೊಳ್ಳಬೇಡಿ; ನಮ್ಮ ಉದ್ಯೋಗಿಗಳು ಎಂದಿಗೂ ಕೋಡ್ ಅನ್ನು ಕೇಳುವುದಿಲ್ಲ.",
		psd2:        "ಮೊತ್ತ: %s. ಸ್ವೀಕರಿಸುವವರು: %s",
		pressKey:    "ನಿಮ್ಮ ಕೋಡ್ ಕೇಳಲು ಯಾವುದೇ ಕೀಲಿಯನ್ನು ಒತ್ತಿರಿ.",
	},
	"lt": {
		code:        "Jūsų {{friendly_name}} patvirtinimo kodas: {{code}}.",
		withoutCode: "Jūsų {{friendly_name}} patvirtinimo kodas:",
		noShare:     "Niekam neatskleiskite šio kodo; mūsų darbuotojai niekada jo iš Jūsų neprašys.",
		psd2:        "Suma: %s. Gavėjas: %s",
		pressKey:    "Norėdami išgirsti kodą, paspauskite bet kurį klavišą.",
	},
	"mr": {
		code:        "{{friendly_name}} साठी आपला पडताळणी कोड: {{code}}.",
		withoutCode: "{{friendly_name}} साठी आपला पडताळणी कोड:",
		noShare:     "हा कोड कोणालाही सांगू नका; आमचे कर्मचारी आपल्याला हा कोड कधीही विचारणार नाहीत.",
		psd2:        "रक्कम: %s. प्राप्तकर्ता: %s",
		pressKey:    "आपला कोड ऐकण्यासाठी कोणतीही की दाबा.",
	},
	"sk": {
		code:        "Váš overovací kód pre {{friendly_name}} je: {{code}}.",
		withoutCode: "Váš overovací kód pre {{friendly_name}} je:",
		noShare:     "Tento kód nikomu neposkytujte; naši zamestnanci vás oň nikdy nebudú žiadať.",
		psd2:        "Suma: %s. Príjemca: %s",
		pressKey:    "Ak si chcete vypočuť kód, stlačte ľubovoľné tlačidlo.",
	},
	"te": {
		code:        "మీ {{friendly_name}} ధృవీకరణ కోడ్: {{code}}.",
		withoutCode: "మీ {{friendly_name}} ధృవీకరణ కోడ్:",
		noShare:     "ఈ కోడ్‌ను ఎవరితోనూ పంచుకోవద్దు; మా ఉద్యోగులు ఎప్పుడూ కోడ్‌ను అడగరు.",
		psd2:        "మొత్తం: %s. గ్రహీత: %s",
		pressKey:    "మీ కోడ్ వినడానికి ఏదైనా కీని నొక్కండి.",
	},
}

// withTranslations adds translated to the sentences locales.go writes
// (which win for a tag in both). sentences is initialised through it, not
// in an init function, so that the Verify default template of message.go,
// built from sentences when the package's variables are initialised, has
// these translations too.
func withTranslations(own map[string]phrases) map[string]phrases {
	for tag, p := range translated {
		if _, ok := own[tag]; !ok {
			own[tag] = p
		}
	}
	return own
}
