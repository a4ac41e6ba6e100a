package commerce

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// CouponPriority is the priority of coupon (voucher) offers, as edX sets it.
const CouponPriority = 20

// VoucherCodeLength is the length of generated voucher codes.
const VoucherCodeLength = 16

// MaxCouponQuantity bounds how many codes one coupon request may create.
const MaxCouponQuantity = 10000

// CouponSpec is a coupon to create: a product of class Coupon, its vouchers and its offers.
type CouponSpec struct {
	Title          string
	Category       string
	Note           string
	StockRecordIDs []int64
	SeatTypes      []string
	Start          time.Time
	End            time.Time
	Code           string
	BenefitType    BenefitType
	BenefitValue   decimal.Decimal
	VoucherType    VoucherUsage
	Quantity       int
	MaxUses        *int
	EmailDomains   []string
	Price          decimal.Decimal
}

// Validate checks a coupon's rules (edX's), naming the offending field.
func (s CouponSpec) Validate() error {
	switch {
	case strings.TrimSpace(s.Title) == "":
		return FieldError("title", "This field is required.")
	case len(s.StockRecordIDs) == 0 && len(s.SeatTypes) == 0:
		return FieldError("stock_record_ids", "Name the seats (stock_record_ids) or the seat types (course_seat_types) of the coupon.")
	case s.BenefitType != BenefitPercentage && s.BenefitType != BenefitAbsolute:
		return FieldError("benefit_type", "Must be Percentage or Absolute.")
	case !s.BenefitValue.IsPositive() || !s.BenefitValue.Equal(s.BenefitValue.Truncate(2)):
		return FieldError("benefit_value", "Must be a positive amount with at most two decimals.")
	case s.BenefitType == BenefitPercentage && s.BenefitValue.GreaterThan(decimal.NewFromInt(100)):
		return FieldError("benefit_value", "A percentage is at most 100.")
	case !ValidVoucherUsage(s.VoucherType):
		return FieldError("voucher_type", "Must be one of Single use, Multi-use, Once per customer, Multi-use-per-Customer.")
	case s.Quantity < 1 || s.Quantity > MaxCouponQuantity:
		return FieldError("quantity", "Must be from 1 to %d.", MaxCouponQuantity)
	case s.MaxUses != nil && s.VoucherType == SingleUse:
		return FieldError("max_uses", "A single-use coupon cannot have max_uses.")
	case s.MaxUses != nil && (*s.MaxUses < 1 || *s.MaxUses > math.MaxInt32):
		return FieldError("max_uses", "Must be from 1 to %d.", math.MaxInt32)
	case s.Start.IsZero():
		return FieldError("start_datetime", "This field is required.")
	case s.End.IsZero():
		return FieldError("end_datetime", "This field is required.")
	case !s.Start.Before(s.End):
		return FieldError("end_datetime", "The end must be after the start.")
	case s.Price.IsNegative() || s.Price.GreaterThan(MaxPrice):
		return FieldError("price", "Not a valid price.")
	}
	if s.Code != "" {
		if _, err := NormalizeCode(s.Code); err != nil {
			return err
		}
		if s.Quantity != 1 {
			return FieldError("quantity", "A coupon with a custom code has exactly one code.")
		}
		if s.BenefitType == BenefitPercentage && s.BenefitValue.Equal(decimal.NewFromInt(100)) {
			return FieldError("code", "An enrollment (100%%) coupon cannot have a custom code.")
		}
	}
	for _, t := range s.SeatTypes {
		if !slices.Contains(SeatTypes, t) {
			return FieldError("course_seat_types", "%q is not verified, professional or credit.", t)
		}
	}
	if err := checkCouponText(&s.Title, &s.Category, &s.Note); err != nil {
		return err
	}
	return ValidateEmailDomains(s.EmailDomains)
}

// checkCouponText bounds a coupon's title, category and note (nil ones are not checked).
func checkCouponText(title, category, note *string) error {
	for _, f := range []struct {
		name  string
		value *string
		max   int
	}{{"title", title, MaxNameLength}, {"category", category, MaxNameLength}, {"note", note, MaxNoteLength}} {
		if f.value == nil {
			continue
		}
		if err := CheckText(f.name, *f.value, f.max); err != nil {
			return err
		}
	}
	return nil
}

// Coupon is a coupon with its vouchers (codes) and what its offers give.
type Coupon struct {
	ID             int64
	Title          string
	Category       string
	Note           string
	SKU            string
	StockRecordID  int64
	Price          decimal.Decimal
	Currency       string
	VoucherType    VoucherUsage
	BenefitType    BenefitType
	BenefitValue   decimal.Decimal
	Start          time.Time
	End            time.Time
	MaxUses        *int
	EmailDomains   []string
	SeatTypes      []string
	StockRecordIDs []int64
	Vouchers       []Voucher
	// NumUses counts orders that used one of its codes.
	NumUses   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CodeStatus is ACTIVE, EXPIRED or INACTIVE (not started yet), as edX reports it.
func (c Coupon) CodeStatus(now time.Time) string {
	switch {
	case now.After(c.End):
		return "EXPIRED"
	case now.Before(c.Start):
		return "INACTIVE"
	}
	return "ACTIVE"
}

// CouponType is "Enrollment code" for a 100% coupon, else "Discount code".
func (c Coupon) CouponType() string {
	if c.BenefitType == BenefitPercentage && c.BenefitValue.Equal(decimal.NewFromInt(100)) {
		return "Enrollment code"
	}
	return "Discount code"
}

// OfferName is the name edX gives a coupon's offer (n > 0 numbers per-voucher offers).
func OfferName(couponID int64, t BenefitType, value decimal.Decimal, n int) string {
	name := fmt.Sprintf("Coupon [%d]-%s-%s", couponID, t, value.String())
	if n > 0 {
		name += fmt.Sprintf(" [%d]", n)
	}
	return name
}

// NewVoucherCode returns a random 16-character upper-case alphanumeric code.
func NewVoucherCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:VoucherCodeLength]
}

// CouponChanges are the coupon fields an update may change; nil leaves a field as it is.
type CouponChanges struct {
	Title        *string
	Category     *string
	Note         *string
	Start        *time.Time
	End          *time.Time
	BenefitValue *decimal.Decimal
	MaxUses      *int
	EmailDomains *[]string
	Price        *decimal.Decimal
}

// ValidateText checks the text an update sets: a title that is not blank, and a title, category
// and note the database can store within their bounds.
func (u CouponChanges) ValidateText() error {
	if u.Title != nil && strings.TrimSpace(*u.Title) == "" {
		return FieldError("title", "Cannot be empty.")
	}
	return checkCouponText(u.Title, u.Category, u.Note)
}
