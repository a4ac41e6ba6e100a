package commerce

import (
	"time"

	"github.com/shopspring/decimal"
)

// StuckCheckout is a checkout operations staff should look at: one that needs attention, or one
// in flight (awaiting payment, paid, fulfilling) that has not moved for a while.
type StuckCheckout struct {
	OrderNumber string
	Username    string
	Status      CheckoutStatus
	// Reason says why the checkout needs attention ("" when it is merely stuck).
	Reason    string
	Total     decimal.Decimal
	Currency  string
	Processor string
	// UpdatedAt is when the checkout last changed status.
	UpdatedAt time.Time
}
