package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
)

// config is every setting of the service, read once from the environment. Each field's tags
// give its variable, default and meaning; `ecommerce config` prints them as the README table.
type config struct {
	DatabaseURL                 string        `env:"DATABASE_URL" default:"postgres://postgres@127.0.0.1:5432/ecommerce?sslmode=disable" secret:"password" help:"PostgreSQL connection URL; migrate and dev create the database if it is missing"`
	HTTPAddr                    string        `env:"HTTP_ADDR" default:"127.0.0.1:8130" help:"address the API listens on"`
	MetricsAddr                 string        `env:"METRICS_ADDR" default:"127.0.0.1:9130" help:"address where worker serves GET /metrics (Prometheus text format); empty turns it off. serve and dev serve /metrics (and /ready/) on HTTP_ADDR"`
	PublicURL                   string        `env:"PUBLIC_URL" default:"http://127.0.0.1:8130" help:"external base URL of the API, used in links and processor callbacks"`
	TemporalAddress             string        `env:"TEMPORAL_ADDRESS" default:"127.0.0.1:7233" help:"Temporal frontend host:port"`
	TemporalUIPort              string        `env:"TEMPORAL_UI_PORT" default:"" help:"port of the Temporal Web UI on TEMPORAL_ADDRESS's host: scripts/temporal.sh (make run) starts the dev server's UI there and dev's banner links to it; empty: TEMPORAL_ADDRESS's port + 1000 (8233), as temporal server start-dev does"`
	TemporalNamespace           string        `env:"TEMPORAL_NAMESPACE" default:"ecommerce" help:"Temporal namespace of the checkout workflows"`
	TemporalTaskQueue           string        `env:"TEMPORAL_TASK_QUEUE" default:"ecommerce" help:"task queue of the checkout workflows and activities"`
	PartnerShortCode            string        `env:"PARTNER_SHORT_CODE" default:"EDX" help:"partner code: prefix of order numbers and part of every SKU"`
	JWTSecretKey                string        `env:"JWT_SECRET_KEY" default:"dev-lms-jwt-secret-change-me" secret:"true" help:"HS256 secret shared with the LMS (and ecommerce_worker-style service users)"`
	JWTIssuers                  string        `env:"JWT_ISSUERS" default:"http://127.0.0.1:18000/oauth2,ecommerce_worker" help:"comma-separated issuers (iss) accepted on JWTs; the first is used by ecommerce token"`
	JWTPublicSigningJWKSet      string        `env:"JWT_PUBLIC_SIGNING_JWK_SET" default:"" help:"JSON Web Key Set (a JSON string, as edX's JWT_AUTH) of the LMS's RSA public keys: RS256 and RS512 tokens are checked against the key their kid names; empty accepts HS256 tokens only"`
	PaymentPageURL              string        `env:"PAYMENT_PAGE_URL" default:"" help:"URL of edX's payment page (frontend-app-payment), where /basket/add/ sends the learner; empty sends the learner to the service's own basket page (/basket/)"`
	CORSOrigins                 string        `env:"CORS_ORIGINS" default:"" help:"comma-separated exact origins (scheme://host[:port]) of browser pages allowed to call the API with the LMS's JWT cookies, such as edX's payment page http://localhost:1998; empty disables CORS"`
	CSRFSecretKey               string        `env:"CSRF_SECRET_KEY" default:"dev-csrf-secret-change-me" secret:"true" help:"HMAC key of the CSRF tokens (GET /csrf/api/v1/token) that JWT-cookie mutations must send in X-CSRFToken; the same on every replica"`
	LMSURL                      string        `env:"LMS_URL" default:"http://127.0.0.1:18000" help:"LMS base URL for the enrollment API (dev serves its LMS simulator here)"`
	LMSAPIKey                   string        `env:"LMS_API_KEY" default:"dev-lms-api-key" secret:"true" help:"X-Edx-Api-Key sent to the LMS enrollment API"`
	CyberSourceProfileID        string        `env:"CYBERSOURCE_PROFILE_ID" default:"00000000-0000-0000-0000-000000000001" help:"CyberSource Secure Acceptance profile id"`
	CyberSourceAccessKey        string        `env:"CYBERSOURCE_ACCESS_KEY" default:"dev-cybersource-access-key" help:"CyberSource Secure Acceptance access key"`
	CyberSourceSecretKey        string        `env:"CYBERSOURCE_SECRET_KEY" default:"dev-cybersource-secret-key" secret:"true" help:"CyberSource Secure Acceptance secret key (HMAC-SHA256 of requests and replies)"`
	CyberSourcePaymentPageURL   string        `env:"CYBERSOURCE_PAYMENT_PAGE_URL" default:"http://127.0.0.1:18001/pay" help:"hosted payment page the browser posts the signed form to (dev serves its CyberSource simulator here)"`
	CyberSourceRESTURL          string        `env:"CYBERSOURCE_REST_URL" default:"http://127.0.0.1:18001" help:"CyberSource REST API base URL for refunds, e.g. https://api.cybersource.com (dev serves its CyberSource simulator here)"`
	CyberSourceMerchantID       string        `env:"CYBERSOURCE_MERCHANT_ID" default:"dev-cybersource-merchant" help:"CyberSource merchant id (v-c-merchant-id) of the REST API; empty disables CyberSource refunds"`
	CyberSourceRESTKeyID        string        `env:"CYBERSOURCE_REST_KEY_ID" default:"dev-cybersource-rest-key" help:"id of the CyberSource REST shared secret key (HTTP Signature keyid)"`
	CyberSourceRESTSharedSecret string        `env:"CYBERSOURCE_REST_SHARED_SECRET" default:"ZGV2LWN5YmVyc291cmNlLXJlc3Qtc2hhcmVkLXNlY3JldA==" secret:"true" help:"CyberSource REST shared secret key, base64 as the Business Center shows it (signs refund requests)"`
	PayPalAPIURL                string        `env:"PAYPAL_API_URL" default:"http://127.0.0.1:18002" help:"PayPal REST API base URL (Orders v2), e.g. https://api-m.sandbox.paypal.com (dev serves its PayPal simulator here)"`
	PayPalClientID              string        `env:"PAYPAL_CLIENT_ID" default:"dev-paypal-client-id" help:"PayPal REST app client id; empty disables PayPal"`
	PayPalClientSecret          string        `env:"PAYPAL_CLIENT_SECRET" default:"dev-paypal-client-secret" secret:"true" help:"PayPal REST app secret (OAuth2 client credentials)"`
	PaymentTimeout              time.Duration `env:"PAYMENT_TIMEOUT" default:"30m" help:"how long a frozen basket waits for payment before the checkout expires"`
	FulfillmentRetryLimit       time.Duration `env:"FULFILLMENT_RETRY_LIMIT" default:"1h" help:"how long one enrollment is retried (1 s, x2, at most 5 min apart) before ops are asked"`
	TrustedProxies              string        `env:"TRUSTED_PROXIES" default:"" help:"comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (rate limits of processor callbacks are per client); empty trusts none"`
	CallbackRateLimit           int           `env:"CALLBACK_RATE_LIMIT" default:"100" help:"processor callbacks per second one client IP may send (burst twice that); -1 turns the limit off"`
	UserRateLimit               int           `env:"USER_RATE_LIMIT" default:"75" help:"requests a minute one authenticated learner may send (in bursts of as many), as edX throttles users; above it 429 with Retry-After. Staff and service users (SERVICE_JWT_ISSUERS) are exempt, anonymous requests not counted; 0 turns the limit off"`
	ServiceJWTIssuers           string        `env:"SERVICE_JWT_ISSUERS" default:"ecommerce_worker" help:"comma-separated JWT issuers (iss) of service users, such as ecommerce_worker, whose requests USER_RATE_LIMIT does not count"`
	OrphanSweepInterval         time.Duration `env:"ORPHAN_SWEEP_INTERVAL" default:"1m" help:"how often serve looks for baskets frozen while Temporal was down (and starts their checkout)"`
	OrphanUnfreezeAfter         time.Duration `env:"ORPHAN_UNFREEZE_AFTER" default:"10m" help:"how long such a checkout's start is retried before its basket is unfrozen and its reservations released"`
	SMTPAddr                    string        `env:"SMTP_ADDR" default:"" help:"host:port of the mail server for receipts; empty logs receipts instead of sending them"`
	SMTPFrom                    string        `env:"SMTP_FROM" default:"receipts@example.com" help:"sender of receipt emails"`
	LogLevel                    string        `env:"LOG_LEVEL" default:"info" help:"debug, info, warn or error"`
	LogFormat                   string        `env:"LOG_FORMAT" default:"text" help:"text or json"`
	ShutdownTimeout             time.Duration `env:"SHUTDOWN_TIMEOUT" default:"15s" help:"how long serve waits for requests in flight on SIGTERM"`
}

// trustedProxies returns the configured reverse proxies.
func (c config) trustedProxies() []string {
	var out []string
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// serviceIssuers returns the JWT issuers of service users.
func (c config) serviceIssuers() []string {
	var out []string
	for _, s := range strings.Split(c.ServiceJWTIssuers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// corsOrigins returns the origins allowed to make credentialed CORS requests.
func (c config) corsOrigins() []string {
	var out []string
	for _, s := range strings.Split(c.CORSOrigins, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// issuers returns the accepted JWT issuers.
func (c config) issuers() []string {
	var out []string
	for _, s := range strings.Split(c.JWTIssuers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loadConfig reads the environment through getenv over the defaults and checks the values.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	v := reflect.ValueOf(&c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		raw := getenv(f.Tag.Get("env"))
		if raw == "" {
			raw = f.Tag.Get("default")
		}
		switch f.Type {
		case reflect.TypeOf(time.Duration(0)):
			d, err := time.ParseDuration(raw)
			if err != nil || d < 0 {
				return c, fmt.Errorf("%s: %q is not a duration such as 30s or 5m", f.Tag.Get("env"), raw)
			}
			v.Field(i).SetInt(int64(d))
		case reflect.TypeOf(0):
			n, err := strconv.Atoi(raw)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not an integer", f.Tag.Get("env"), raw)
			}
			v.Field(i).SetInt(int64(n))
		default:
			v.Field(i).SetString(raw)
		}
	}
	if c.UserRateLimit < 0 {
		return c, fmt.Errorf("USER_RATE_LIMIT: %d; 0 turns the limit off", c.UserRateLimit)
	}
	if len(c.issuers()) == 0 {
		return c, fmt.Errorf("JWT_ISSUERS: at least one issuer is needed")
	}
	for _, o := range c.corsOrigins() {
		if err := api.ValidateOrigin(o); err != nil {
			return c, fmt.Errorf("CORS_ORIGINS: %w", err)
		}
	}
	if _, err := auth.NewVerifier(c.JWTSecretKey, c.issuers(), auth.WithJWKSet(c.JWTPublicSigningJWKSet)); err != nil {
		return c, fmt.Errorf("JWT_PUBLIC_SIGNING_JWK_SET: %w", err)
	}
	if c.PartnerShortCode == "" || len(c.PartnerShortCode) > 8 {
		return c, fmt.Errorf("PARTNER_SHORT_CODE: 1 to 8 characters, got %q", c.PartnerShortCode)
	}
	c.PartnerShortCode = strings.ToUpper(c.PartnerShortCode)
	if c.PaymentTimeout <= 0 || c.FulfillmentRetryLimit <= 0 {
		return c, fmt.Errorf("PAYMENT_TIMEOUT and FULFILLMENT_RETRY_LIMIT must be positive")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return c, err
	}
	return c, c.refuseDevSecrets()
}

// refuseDevSecrets refuses the development defaults of secrets (published in this repository)
// unless the service is only reachable on this machine (PUBLIC_URL on a loopback address): a
// forgotten JWT_SECRET_KEY would let anyone mint staff tokens.
func (c config) refuseDevSecrets() error {
	if u, err := url.Parse(c.PublicURL); err == nil {
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("secret") == "true" && f.Tag.Get("default") != "" && v.Field(i).String() == f.Tag.Get("default") {
			return fmt.Errorf("%s is the published development default; set your own (PUBLIC_URL %s is not a loopback address)", f.Tag.Get("env"), c.PublicURL)
		}
	}
	return nil
}

// logAttrs renders the configuration for the start-up log with secrets masked.
func (c config) logAttrs() []any {
	var out []any
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		val := fmt.Sprint(v.Field(i).Interface())
		switch f.Tag.Get("secret") {
		case "true":
			val = "******"
		case "password":
			val = maskURLPassword(val)
		}
		out = append(out, slog.String(f.Tag.Get("env"), val))
	}
	return out
}

// maskURLPassword hides the password of a URL such as postgres://user:pw@host/db.
func maskURLPassword(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return s
	}
	if user, _, hasPw := strings.Cut(userinfo, ":"); hasPw {
		return scheme + "://" + user + ":******@" + host
	}
	return s
}

// markdownTable prints the configuration reference as a Markdown table.
func markdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	t := reflect.TypeOf(config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		def := f.Tag.Get("default")
		switch {
		case def == "":
			def = "(empty)"
		case f.Tag.Get("secret") == "true":
			def = "`" + def + "` (development only; secret, masked in logs)"
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Tag.Get("env"), def, f.Tag.Get("help"))
	}
	return b.String()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", s)
	}
	return l, nil
}
