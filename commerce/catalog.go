package commerce

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// ProductClass is the kind of a product; it decides how a purchase is fulfilled.
type ProductClass string

// Product classes, named as edX names them.
const (
	ClassSeat              ProductClass = "Seat"
	ClassCoupon            ProductClass = "Coupon"
	ClassEnrollmentCode    ProductClass = "Enrollment Code"
	ClassCourseEntitlement ProductClass = "Course Entitlement"
)

// certificateTypes are the certificate types a seat may carry ("" is the audit seat).
var certificateTypes = map[string]bool{
	"": true, "honor": true, "verified": true, "professional": true, "no-id-professional": true,
	"credit": true, "masters": true, "executive-education": true,
	"paid-executive-education": true, "unpaid-executive-education": true,
	"paid-bootcamp": true, "unpaid-bootcamp": true,
}

// courseIDPattern is the shape of a course run key (old "org/course/run" or new "course-v1:org+course+run").
var courseIDPattern = regexp.MustCompile(`^[^/+]+(/|\+)[^/+]+(/|\+)[^/]+$`)

// ValidCourseID reports whether id looks like a course run key.
func ValidCourseID(id string) bool {
	return len(id) <= 255 && courseIDPattern.MatchString(id)
}

// NormalizeCertificateType maps the accepted spellings of a certificate type to the stored one:
// the audit seat carries no certificate type. ok is false for an unknown type.
func NormalizeCertificateType(t string) (normalized string, ok bool) {
	t = strings.ToLower(strings.TrimSpace(t))
	if t == "audit" {
		t = ""
	}
	return t, certificateTypes[t]
}

// Course is a course run that sells seats.
type Course struct {
	ID                   string
	Name                 string
	VerificationDeadline *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
	Products             []Product
}

// Type derives the course type from its seats, as edX does.
func (c Course) Type() string {
	kinds := map[string]bool{}
	for _, p := range c.Products {
		if p.Class == ClassSeat {
			kinds[p.CertificateType] = true
		}
	}
	switch {
	case kinds["credit"]:
		return "credit"
	case kinds["professional"] || kinds["no-id-professional"]:
		return "professional"
	case kinds["verified"] && (kinds[""] || kinds["honor"]):
		return "verified"
	case kinds["verified"]:
		return "verified-only"
	case kinds["paid-executive-education"]:
		return "paid-executive-education"
	case kinds["unpaid-executive-education"]:
		return "unpaid-executive-education"
	default:
		return "audit"
	}
}

// StockRecord is what a product costs and the SKU it is sold under.
type StockRecord struct {
	ID         int64
	ProductID  int64
	PartnerSKU string
	Price      decimal.Decimal
	Currency   string
	UpdatedAt  time.Time
}

// Product is something a learner can buy: a seat in a course, an enrollment code, a coupon.
type Product struct {
	ID                     int64
	Class                  ProductClass
	CourseID               string
	Title                  string
	Expires                *time.Time
	CertificateType        string
	IDVerificationRequired bool
	CreditProvider         string
	CreditHours            *int
	SeatType               string
	StockRecord            StockRecord
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// AvailableAt reports whether the product can be bought at now: it has not expired.
func (p Product) AvailableAt(now time.Time) bool {
	return p.Expires == nil || !p.Expires.Before(now)
}

// Mode is the LMS enrollment mode a seat grants.
func (p Product) Mode() string {
	mode := p.CertificateType
	if mode == "" {
		mode = p.SeatType
	}
	if mode == "" {
		return "audit"
	}
	if mode == "professional" && !p.IDVerificationRequired {
		return "no-id-professional"
	}
	return mode
}

// SeatMode is the enrollment mode a seat spec grants.
func SeatMode(s SeatSpec) string {
	return Product{Class: ClassSeat, CertificateType: s.CertificateType, IDVerificationRequired: s.IDVerificationRequired}.Mode()
}

// SeatTitle is the title of a seat: "Seat in <course>", plus the certificate type when it has one.
func SeatTitle(courseName, certificateType string) string {
	if certificateType == "" {
		return "Seat in " + courseName
	}
	return fmt.Sprintf("Seat in %s with %s certificate", courseName, certificateType)
}

// SKU is the stable partner SKU of a product identified by key: the last seven hex digits,
// upper-cased, of the MD5 of the lower-cased key (edX's generate_sku).
func SKU(key string) string {
	sum := md5.Sum([]byte(strings.ToLower(key)))
	h := hex.EncodeToString(sum[:])
	return strings.ToUpper(h[len(h)-7:])
}

// SeatSKU is the SKU of a seat: its identifying attributes, its product id and the partner.
func SeatSKU(partner string, productID int64, p SeatSpec, courseID string) string {
	return SKU(fmt.Sprintf("%s %s %t %s %d %s", p.CertificateType, courseID, p.IDVerificationRequired,
		p.CreditProvider, productID, partner))
}

// SeatSpec describes one seat in a publication.
type SeatSpec struct {
	CertificateType        string
	IDVerificationRequired bool
	CreditProvider         string
	CreditHours            *int
	Price                  decimal.Decimal
	Currency               string
	Expires                *time.Time
}

// SameKind reports whether two specs describe the same seat (and so the same product).
func (s SeatSpec) SameKind(o SeatSpec) bool {
	return s.CertificateType == o.CertificateType &&
		s.IDVerificationRequired == o.IDVerificationRequired &&
		s.CreditProvider == o.CreditProvider
}

// Publication is a course with its seats, created or updated in one transaction.
type Publication struct {
	CourseID             string
	Name                 string
	VerificationDeadline *time.Time
	Seats                []SeatSpec
	// CreateEnrollmentCode asks for an Enrollment Code product for the course's first paid seat
	// of an enrollment-code type (verified, professional, no-id-professional).
	CreateEnrollmentCode bool
}

// EnrollmentCodeSeatTypes are the seat types enrollment codes are sold for, in order of preference.
var EnrollmentCodeSeatTypes = []string{"verified", "professional", "no-id-professional"}

// EnrollmentCodeTitle is the title of an enrollment code product.
func EnrollmentCodeTitle(seatType, courseName string) string {
	return fmt.Sprintf("Enrollment code for %s seat in %s", seatType, courseName)
}

// EnrollmentCodeValidity is how long the codes bought as enrollment codes stay valid (edX: 520 weeks).
const EnrollmentCodeValidity = 520 * 7 * 24 * time.Hour

// Validate checks the publication's invariants and names the first offending field.
func (p Publication) Validate() error {
	if !ValidCourseID(p.CourseID) {
		return FieldError("id", "%q is not a valid course run key.", p.CourseID)
	}
	if strings.TrimSpace(p.Name) == "" {
		return FieldError("name", "This field is required.")
	}
	if err := CheckText("name", p.Name, MaxNameLength); err != nil {
		return err
	}
	for i, s := range p.Seats {
		field := fmt.Sprintf("products[%d]", i)
		if err := s.validate(field); err != nil {
			return err
		}
		for j := 0; j < i; j++ {
			if p.Seats[j].SameKind(s) {
				return FieldError(field, "Duplicates products[%d]: a course has one seat of each kind.", j)
			}
		}
	}
	return nil
}

// validate checks one seat of a publication; field names it ("products[0]").
func (s SeatSpec) validate(field string) error {
	switch {
	case !certificateTypes[s.CertificateType]:
		return FieldError(field+".attribute_values.certificate_type", "%q is not a certificate type.", s.CertificateType)
	case s.Price.IsNegative() || s.Price.GreaterThan(MaxPrice) || !s.Price.Equal(s.Price.Truncate(2)):
		return FieldError(field+".price", "%s is not a valid price.", s.Price)
	case !ISOCurrency(s.Currency):
		return FieldError(field+".price_currency", "%q is not an ISO 4217 currency code.", s.Currency)
	case s.CertificateType == "credit" && s.CreditProvider == "":
		return FieldError(field+".attribute_values.credit_provider", "A credit seat needs a credit provider.")
	case s.CreditHours != nil && *s.CreditHours < 0:
		return FieldError(field+".attribute_values.credit_hours", "Credit hours cannot be negative.")
	}
	return CheckText(field+".attribute_values.credit_provider", s.CreditProvider, MaxNameLength)
}

// Bounds of the text a client may store, in characters.
const (
	// MaxNameLength bounds names and titles: edX's 255-character CharFields.
	MaxNameLength = 255
	// MaxSKULength bounds a partner SKU (edX's partner_sku is 128 characters).
	MaxSKULength = 128
	// MaxNoteLength bounds free text such as a coupon's note.
	MaxNoteLength = 4096
)

// TextProblem says why s cannot be stored as text, or returns "" when it can: PostgreSQL
// refuses a NUL character and invalid UTF-8 in text (SQLSTATE 22021), and \u0000 in jsonb.
func TextProblem(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	return ""
}

// CheckText returns a field error when value cannot be stored as text (TextProblem) or is
// longer than max characters.
func CheckText(field, value string, max int) error {
	if p := TextProblem(value); p != "" {
		return FieldError(field, "The value %s.", p)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return FieldError(field, "Ensure this field has no more than %d characters (it has %d).", max, n)
	}
	return nil
}

// Page selects a slice of a list.
type Page struct {
	Limit  int
	Offset int
}

// ProductFilter narrows a product listing; empty fields match everything.
type ProductFilter struct {
	CourseID string
	Class    ProductClass
}
