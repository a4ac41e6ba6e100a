package commerce

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// CheckoutStatus is where a checkout is, as operations staff see it (the CheckoutStatus
// search attribute and the status query).
type CheckoutStatus string

// Checkout statuses. AwaitingPayment -> Paid -> Fulfilling -> Fulfilled, or one of the ends.
const (
	CheckoutAwaitingPayment CheckoutStatus = "AwaitingPayment"
	CheckoutPaid            CheckoutStatus = "Paid"
	CheckoutFulfilling      CheckoutStatus = "Fulfilling"
	CheckoutFulfilled       CheckoutStatus = "Fulfilled"
	CheckoutPaymentDeclined CheckoutStatus = "PaymentDeclined"
	CheckoutPaymentExpired  CheckoutStatus = "PaymentExpired"
	CheckoutNeedsAttention  CheckoutStatus = "NeedsAttention"
	CheckoutRefunded        CheckoutStatus = "Refunded"
)

// CheckoutLine is one line of a frozen basket, with everything fulfillment needs.
type CheckoutLine struct {
	ProductID                int64           `json:"product_id"`
	StockRecordID            int64           `json:"stock_record_id"`
	SKU                      string          `json:"sku"`
	Title                    string          `json:"title"`
	Class                    ProductClass    `json:"product_class"`
	CourseID                 string          `json:"course_id"`
	Mode                     string          `json:"mode"`
	CreditProvider           string          `json:"credit_provider"`
	Quantity                 int             `json:"quantity"`
	UnitPrice                decimal.Decimal `json:"unit_price"`
	LinePriceBeforeDiscounts decimal.Decimal `json:"line_price_before_discounts"`
	LinePrice                decimal.Decimal `json:"line_price"`
}

// Checkout is the snapshot of a frozen basket that a checkout workflow starts from. Amounts
// are decimals, which travel through Temporal's JSON converter as exact strings.
type Checkout struct {
	OrderNumber          string          `json:"order_number"`
	BasketID             int64           `json:"basket_id"`
	UserID               int64           `json:"user_id"`
	Username             string          `json:"username"`
	Email                string          `json:"email"`
	Processor            string          `json:"processor"`
	Currency             string          `json:"currency"`
	TotalBeforeDiscounts decimal.Decimal `json:"total_before_discounts"`
	Discount             decimal.Decimal `json:"discount"`
	Total                decimal.Decimal `json:"total"`
	Lines                []CheckoutLine  `json:"lines"`
	// Discounts are the offers applied when the basket was frozen (reserved until the order).
	Discounts   []AppliedOffer `json:"discounts,omitempty"`
	VoucherCode string         `json:"voucher_code,omitempty"`
	FrozenAt    time.Time      `json:"frozen_at"`
}

// VoucherDiscount is what the voucher's offers took off the checkout.
func (c Checkout) VoucherDiscount(voucherID int64) decimal.Decimal {
	total := decimal.Zero
	for _, d := range c.Discounts {
		if d.VoucherID == voucherID {
			total = total.Add(d.Amount)
		}
	}
	return total
}

// IsFree reports whether nothing is to be paid, so payment is skipped.
func (c Checkout) IsFree() bool { return c.Total.IsZero() }

// SnapshotBasket freezes the content of a basket and its pricing (with offers) into a checkout
// for processor.
func SnapshotBasket(b Basket, owner User, partner, processor string, now time.Time, pricing Pricing) (Checkout, error) {
	if len(b.Lines) == 0 {
		return Checkout{}, UserError(EInvalid, fmt.Sprintf("Basket [%d] is empty.", b.ID), "You can't check out with an empty basket.")
	}
	if len(pricing.Lines) != len(b.Lines) {
		return Checkout{}, fmt.Errorf("snapshot basket %d: pricing has %d lines, the basket %d", b.ID, len(pricing.Lines), len(b.Lines))
	}
	totals := pricing.Totals
	c := Checkout{
		OrderNumber: OrderNumber(partner, b.ID), BasketID: b.ID, UserID: owner.ID, Username: owner.Username,
		Email: owner.Email, Processor: processor, Currency: totals.Currency,
		TotalBeforeDiscounts: totals.TotalInclTaxExclDiscounts, Discount: totals.TotalDiscount, Total: totals.TotalInclTax,
		FrozenAt: now.UTC(), Discounts: pricing.Offers,
	}
	for _, d := range pricing.Offers {
		if d.VoucherCode != "" {
			c.VoucherCode = d.VoucherCode
		}
	}
	for i, l := range b.Lines {
		c.Lines = append(c.Lines, CheckoutLine{
			ProductID: l.Product.ID, StockRecordID: l.Product.StockRecord.ID, SKU: l.Product.StockRecord.PartnerSKU,
			Title: l.Product.Title, Class: l.Product.Class, CourseID: l.Product.CourseID, Mode: l.Product.Mode(),
			CreditProvider: l.Product.CreditProvider, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			LinePriceBeforeDiscounts: pricing.Lines[i].LinePriceBeforeDiscounts, LinePrice: pricing.Lines[i].LinePrice,
		})
	}
	return c, nil
}

// PaymentOutcome is a processor's answer normalised across processors.
type PaymentOutcome string

// Payment outcomes.
const (
	PaymentAccepted  PaymentOutcome = "accepted"
	PaymentDeclined  PaymentOutcome = "declined"
	PaymentReview    PaymentOutcome = "review"
	PaymentError     PaymentOutcome = "error"
	PaymentDuplicate PaymentOutcome = "duplicate"
	PaymentCancelled PaymentOutcome = "cancelled"
)

// PaymentNotification is an authentic processor message about a checkout's payment, as the
// callback handler recorded it (ResponseID is its payment_processor_responses row).
type PaymentNotification struct {
	Processor     string          `json:"processor"`
	TransactionID string          `json:"transaction_id"`
	OrderNumber   string          `json:"order_number"`
	Outcome       PaymentOutcome  `json:"outcome"`
	Amount        decimal.Decimal `json:"amount"`
	Currency      string          `json:"currency"`
	CardType      string          `json:"card_type"`
	Label         string          `json:"label"`
	Message       string          `json:"message"`
	ResponseID    int64           `json:"response_id"`
}

// PaymentData is what a storefront needs to send the learner to the processor.
type PaymentData struct {
	Processor      string            `json:"payment_processor"`
	PaymentPageURL string            `json:"payment_page_url"`
	FormData       map[string]string `json:"payment_form_data"`
}

// ProcessorResponse is a raw processor message to record before acting on it.
type ProcessorResponse struct {
	Processor     string
	TransactionID string
	OrderNumber   string
	Kind          string
	Authentic     *bool
	Body          map[string]string
}

// ErrAlreadyOwned is returned (wrapped, with the SKUs and orders) when a checkout or an order
// would sell learners a seat they already own: one seat, one order.
var ErrAlreadyOwned = &Error{Code: EInvalid, Message: "The learner already owns a seat in this basket.",
	UserMessage: "You have already purchased these products."}

// AlreadyPurchased is edX's answer to a basket holding products the learner already bought.
func AlreadyPurchased(skus []string) *Error {
	return UserError(EInvalid, fmt.Sprintf("The user has already purchased the products with SKU(s) [%s]", strings.Join(skus, ", ")),
		"You have already purchased these products.")
}
