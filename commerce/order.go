package commerce

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
