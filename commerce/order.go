package commerce

import (
	"time"

	"github.com/shopspring/decimal"
)

// OrderStatus is an order's fulfillment state, as edX names it.
type OrderStatus string

// Order statuses. An order starts Open; fulfillment moves it to Complete or Fulfillment Error.
const (
	OrderPending          OrderStatus = "Pending"
	OrderPaymentError     OrderStatus = "Payment Error"
	OrderOpen             OrderStatus = "Open"
	OrderFulfillmentError OrderStatus = "Fulfillment Error"
	OrderComplete         OrderStatus = "Complete"
)

// LineStatus is an order line's fulfillment state, as edX names it.
type LineStatus string

// Order line statuses.
const (
	LineOpen               LineStatus = "Open"
	LineComplete           LineStatus = "Complete"
	LineConfigurationError LineStatus = "Fulfillment Configuration Error"
	LineNetworkError       LineStatus = "Fulfillment Network Error"
	LineTimeoutError       LineStatus = "Fulfillment Timeout Error"
	LineServerError        LineStatus = "Fulfillment Server Error"
)

// Order is a placed order.
type Order struct {
	ID                          int64
	Number                      string
	BasketID                    int64
	UserID                      int64
	Username                    string
	Email                       string
	Currency                    string
	TotalInclTax                decimal.Decimal
	TotalExclTax                decimal.Decimal
	TotalBeforeDiscountsInclTax decimal.Decimal
	Status                      OrderStatus
	PaymentProcessor            string
	DatePlaced                  time.Time
	Lines                       []OrderLine
	Payment                     *PaymentSource
	Discounts                   []AppliedOffer
	// Notes say what happened to the order (fulfillment errors, ops actions, refunds).
	Notes []OrderNote
}

// OrderNote is a note on an order, as edX keeps them (type Info, Warning or Error).
type OrderNote struct {
	Type      string
	Message   string
	CreatedAt time.Time
}

// Discount is what discounts took off the order.
func (o Order) Discount() decimal.Decimal {
	return o.TotalBeforeDiscountsInclTax.Sub(o.TotalInclTax)
}

// Fulfillable reports whether fulfillment may (re)run: the order is Open or in Fulfillment Error.
func (o Order) Fulfillable() bool {
	return o.Status == OrderOpen || o.Status == OrderFulfillmentError
}

// OrderLine is one product of an order and its fulfillment state.
type OrderLine struct {
	ID                       int64
	ProductID                int64
	SKU                      string
	Title                    string
	CourseID                 string
	Quantity                 int
	UnitPrice                decimal.Decimal
	LinePrice                decimal.Decimal
	LinePriceBeforeDiscounts decimal.Decimal
	Status                   LineStatus
	FulfillmentAttempts      int
	FulfillmentError         string
	// EnrollmentCodes are the codes an enrollment-code line created at fulfillment.
	EnrollmentCodes []Voucher
}

// PaymentSource is how an order was paid.
type PaymentSource struct {
	Processor      string
	Reference      string
	Currency       string
	AmountDebited  decimal.Decimal
	AmountRefunded decimal.Decimal
	Label          string
	CardType       string
}

// Payment is an accepted payment, to be recorded with its order.
type Payment struct {
	Processor     string          `json:"processor"`
	TransactionID string          `json:"transaction_id"`
	Amount        decimal.Decimal `json:"amount"`
	Currency      string          `json:"currency"`
	CardType      string          `json:"card_type"`
	Label         string          `json:"label"`
}
