package cybersource

// DefaultLocale is the page locale used when Config.Locale is empty.
const DefaultLocale = "en-us"

// Profile is one Secure Acceptance profile: its identifier, and the access
// key and secret key of one of its keys.
type Profile struct {
	ProfileID string
	AccessKey string
	SecretKey string
}

// Config is the merchant configuration of the processor.
type Config struct {
	// Profile signs the payment forms we build and verifies replies to them.
	Profile Profile
	// Extra lists other profiles (or other keys of the same profile, e.g.
	// during key rotation) whose replies are accepted. The secret used to
	// verify a reply is chosen by its req_profile_id (and req_access_key
	// when present).
	Extra []Profile
	// PaymentPageURL is where the browser posts the signed form, e.g.
	// https://testsecureacceptance.cybersource.com/pay.
	PaymentPageURL string
	// Locale is the payment page locale; DefaultLocale when empty.
	Locale string
}

// locale returns the configured locale or DefaultLocale.
func (c Config) locale() string {
	if c.Locale == "" {
		return DefaultLocale
	}
	return c.Locale
}

// candidates returns the configured profiles that may have signed a reply
// naming profileID and, when not empty, accessKey.
func (c Config) candidates(profileID, accessKey string) []Profile {
	var out []Profile
	for _, p := range append([]Profile{c.Profile}, c.Extra...) {
		if p.ProfileID == "" || p.SecretKey == "" || p.ProfileID != profileID {
			continue
		}
		if accessKey != "" && p.AccessKey != accessKey {
			continue
		}
		out = append(out, p)
	}
	return out
}
