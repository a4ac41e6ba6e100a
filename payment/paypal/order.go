package paypal

import (
	"fmt"
	"github.com/coursecommerce/commerce/internal/text"
	"net/url"
	"strconv"

	"github.com/shopspring/decimal"
)

// OrderStatus is the status of a PayPal order.
type OrderStatus string

// Order statuses.
const (
	OrderCreated             OrderStatus = "CREATED"
	OrderSaved               OrderStatus = "SAVED"
	OrderApproved            OrderStatus = "APPROVED"
	OrderVoided              OrderStatus = "VOIDED"
	OrderCompleted           OrderStatus = "COMPLETED"
	OrderPayerActionRequired OrderStatus = "PAYER_ACTION_REQUIRED"
)

// CaptureStatus is the status of a capture.
type CaptureStatus string

// Capture statuses.
const (
	CaptureCompleted         CaptureStatus = "COMPLETED"
	CaptureDeclined          CaptureStatus = "DECLINED"
	CapturePending           CaptureStatus = "PENDING"
	CaptureFailed            CaptureStatus = "FAILED"
	CapturePartiallyRefunded CaptureStatus = "PARTIALLY_REFUNDED"
	CaptureRefunded          CaptureStatus = "REFUNDED"
)

// RefundStatus is the status of a refund.
type RefundStatus string

// Refund statuses.
const (
	RefundCompleted RefundStatus = "COMPLETED"
	RefundPending   RefundStatus = "PENDING"
	RefundFailed    RefundStatus = "FAILED"
	RefundCancelled RefundStatus = "CANCELLED"
)

// Link relations of an order that the service follows.
const (
	RelApprove     = "approve"
	RelPayerAction = "payer-action"
	RelSelf        = "self"
	RelCapture     = "capture"
)

// ItemCategoryDigitalGoods is the category of every item we sell.
const ItemCategoryDigitalGoods = "DIGITAL_GOODS"

// Field length limits of the Orders API.
const (
	maxIDLength   = 127 // reference_id, invoice_id, custom_id, item name and sku
	maxRequestID  = 108 // PayPal-Request-Id
	maxItemsCount = 100
)

// OrderRequest is an order to create: intent CAPTURE, one purchase unit.
type OrderRequest struct {
	// RequestID is the PayPal-Request-Id: sending the same id again returns the same order.
	RequestID string
	// ReferenceID, InvoiceID and CustomID identify the purchase unit (we use the order number
	// for the first two).
	ReferenceID string
	InvoiceID   string
	CustomID    string
	// Description is shown to the buyer; optional.
	Description string
	// Currency is the ISO 4217 code of every amount.
	Currency string
	// Items are the lines; their unit amounts times quantities add up to the item total.
	Items []Item
	// Discount is taken off the item total; the order's amount is the item total minus it.
	Discount decimal.Decimal
	// ReturnURL is where PayPal sends the buyer after approval (with token and PayerID),
	// CancelURL where it sends a buyer who cancels (with token).
	ReturnURL string
	CancelURL string
	// BrandName is shown on PayPal's pages; optional.
	BrandName string
}

// Item is one line of an order.
type Item struct {
	Name       string
	SKU        string
	Quantity   int
	UnitAmount decimal.Decimal
}

// ItemTotal is the sum of the unit amounts times the quantities.
func (r OrderRequest) ItemTotal() decimal.Decimal {
	total := decimal.Zero
	for _, it := range r.Items {
		total = total.Add(it.UnitAmount.Mul(decimal.NewFromInt(int64(it.Quantity))))
	}
	return total
}

// Total is the amount the buyer pays: the item total minus the discount.
func (r OrderRequest) Total() decimal.Decimal { return r.ItemTotal().Sub(r.Discount) }

// Order is a PayPal order as the API returns it.
type Order struct {
	ID            string
	Intent        string
	Status        OrderStatus
	PurchaseUnits []PurchaseUnit
	// Payer is set once the buyer approved the order.
	Payer Payer
	Links []Link
}

// PurchaseUnit is one purchase unit of an order.
type PurchaseUnit struct {
	ReferenceID string
	InvoiceID   string
	CustomID    string
	// Amount is the amount of the unit (zero when the answer omits it, as capture answers do).
	Amount Money
	// Captures are the unit's captures, oldest first.
	Captures []Capture
	// Refunds are the unit's refunds, oldest first.
	Refunds []Refund
}

// Capture is money taken for an order.
type Capture struct {
	ID     string
	Status CaptureStatus
	// StatusReason is status_details.reason, e.g. PENDING_REVIEW; often empty.
	StatusReason string
	Amount       Money
	InvoiceID    string
	CustomID     string
	FinalCapture bool
}

// Refund is money given back for a capture.
type Refund struct {
	ID           string
	Status       RefundStatus
	StatusReason string
	// Amount is the refunded amount (zero when the answer omits it).
	Amount    Money
	InvoiceID string
}

// Payer is the buyer of an approved order.
type Payer struct {
	PayerID   string
	Email     string
	GivenName string
	Surname   string
}

// Link is a HATEOAS link of an answer.
type Link struct {
	Href   string
	Rel    string
	Method string
}

// Link returns the href of the first link with relation rel, or "".
func (o Order) Link(rel string) string {
	for _, l := range o.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// ApproveURL is where the buyer approves the order: the "approve" link, or the
// "payer-action" link of an order created with a payment source.
func (o Order) ApproveURL() string {
	if href := o.Link(RelApprove); href != "" {
		return href
	}
	return o.Link(RelPayerAction)
}

// InvoiceID is the invoice id of the first purchase unit, or "".
func (o Order) InvoiceID() string {
	if len(o.PurchaseUnits) == 0 {
		return ""
	}
	return o.PurchaseUnits[0].InvoiceID
}

// Captures returns the captures of all purchase units, oldest first; a capture without an
// invoice id gets its unit's.
func (o Order) Captures() []Capture {
	var out []Capture
	for _, u := range o.PurchaseUnits {
		for _, c := range u.Captures {
			if c.InvoiceID == "" {
				c.InvoiceID = u.InvoiceID
			}
			out = append(out, c)
		}
	}
	return out
}

// validate checks r before anything is sent.
func (r OrderRequest) validate() error {
	switch {
	case r.RequestID == "" || len(r.RequestID) > maxRequestID:
		return fmt.Errorf("%w: request id must have 1 to %d characters", ErrInvalidRequest, maxRequestID)
	case r.InvoiceID == "" || len(r.InvoiceID) > maxIDLength || len(r.ReferenceID) > maxIDLength || len(r.CustomID) > maxIDLength:
		return fmt.Errorf("%w: invoice id is required; ids have at most %d characters", ErrInvalidRequest, maxIDLength)
	case len(r.Items) == 0 || len(r.Items) > maxItemsCount:
		return fmt.Errorf("%w: an order has 1 to %d items", ErrInvalidRequest, maxItemsCount)
	case !isHTTPURL(r.ReturnURL) || !isHTTPURL(r.CancelURL):
		return fmt.Errorf("%w: return and cancel URLs must be absolute http(s) URLs", ErrInvalidRequest)
	case r.Discount.IsNegative():
		return fmt.Errorf("%w: negative discount %s", ErrInvalidRequest, r.Discount)
	case !r.Total().IsPositive():
		return fmt.Errorf("%w: the total %s is not positive", ErrInvalidRequest, r.Total())
	}
	for i, it := range r.Items {
		if it.Name == "" || it.Quantity < 1 || it.UnitAmount.IsNegative() {
			return fmt.Errorf("%w: item %d needs a name, a positive quantity and a non-negative unit amount", ErrInvalidRequest, i)
		}
	}
	return nil
}

// Wire forms of the Orders API.
type (
	wireOrderRequest struct {
		Intent        string             `json:"intent"`
		PurchaseUnits []wirePurchaseUnit `json:"purchase_units"`
		PaymentSource *wirePaymentSource `json:"payment_source,omitempty"`
	}
	wirePaymentSource struct {
		PayPal wirePayPalSource `json:"paypal"`
	}
	wirePayPalSource struct {
		ExperienceContext wireExperienceContext `json:"experience_context"`
	}
	wireExperienceContext struct {
		BrandName          string `json:"brand_name,omitempty"`
		ShippingPreference string `json:"shipping_preference,omitempty"`
		UserAction         string `json:"user_action,omitempty"`
		ReturnURL          string `json:"return_url"`
		CancelURL          string `json:"cancel_url"`
	}
	wirePurchaseUnit struct {
		ReferenceID string        `json:"reference_id,omitempty"`
		InvoiceID   string        `json:"invoice_id,omitempty"`
		CustomID    string        `json:"custom_id,omitempty"`
		Description string        `json:"description,omitempty"`
		Amount      *wireAmount   `json:"amount,omitempty"`
		Items       []wireItem    `json:"items,omitempty"`
		Payments    *wirePayments `json:"payments,omitempty"`
	}
	wireAmount struct {
		wireMoney
		Breakdown *wireBreakdown `json:"breakdown,omitempty"`
	}
	wireBreakdown struct {
		ItemTotal *wireMoney `json:"item_total,omitempty"`
		Discount  *wireMoney `json:"discount,omitempty"`
	}
	wireItem struct {
		Name       string    `json:"name"`
		SKU        string    `json:"sku,omitempty"`
		Quantity   string    `json:"quantity"`
		UnitAmount wireMoney `json:"unit_amount"`
		Category   string    `json:"category,omitempty"`
	}
	wirePayments struct {
		Captures []wireCapture `json:"captures,omitempty"`
		Refunds  []wireRefund  `json:"refunds,omitempty"`
	}
	wireStatusDetails struct {
		Reason string `json:"reason,omitempty"`
	}
	wireCapture struct {
		ID            string             `json:"id"`
		Status        string             `json:"status"`
		StatusDetails *wireStatusDetails `json:"status_details,omitempty"`
		Amount        *wireMoney         `json:"amount,omitempty"`
		InvoiceID     string             `json:"invoice_id,omitempty"`
		CustomID      string             `json:"custom_id,omitempty"`
		FinalCapture  bool               `json:"final_capture"`
	}
	wireRefund struct {
		ID            string             `json:"id"`
		Status        string             `json:"status"`
		StatusDetails *wireStatusDetails `json:"status_details,omitempty"`
		Amount        *wireMoney         `json:"amount,omitempty"`
		InvoiceID     string             `json:"invoice_id,omitempty"`
	}
	wirePayer struct {
		PayerID      string `json:"payer_id,omitempty"`
		EmailAddress string `json:"email_address,omitempty"`
		Name         *struct {
			GivenName string `json:"given_name,omitempty"`
			Surname   string `json:"surname,omitempty"`
		} `json:"name,omitempty"`
	}
	wireLink struct {
		Href   string `json:"href"`
		Rel    string `json:"rel"`
		Method string `json:"method,omitempty"`
	}
	wireOrder struct {
		ID            string             `json:"id"`
		Intent        string             `json:"intent,omitempty"`
		Status        string             `json:"status"`
		PurchaseUnits []wirePurchaseUnit `json:"purchase_units,omitempty"`
		Payer         *wirePayer         `json:"payer,omitempty"`
		Links         []wireLink         `json:"links,omitempty"`
	}
	wireRefundRequest struct {
		Amount *wireMoney `json:"amount,omitempty"`
	}
)

// toWire builds the JSON body of a create-order request.
func (r OrderRequest) toWire() (wireOrderRequest, error) {
	money := func(d decimal.Decimal) (*wireMoney, error) {
		m, err := Money{Currency: r.Currency, Value: d}.toWire()
		return &m, err
	}
	total, err := money(r.Total())
	if err != nil {
		return wireOrderRequest{}, err
	}
	itemTotal, err := money(r.ItemTotal())
	if err != nil {
		return wireOrderRequest{}, err
	}
	discount, err := money(r.Discount)
	if err != nil {
		return wireOrderRequest{}, err
	}
	unit := wirePurchaseUnit{
		ReferenceID: r.ReferenceID, InvoiceID: r.InvoiceID, CustomID: r.CustomID,
		Description: text.Truncate(r.Description, maxIDLength),
		Amount:      &wireAmount{wireMoney: *total, Breakdown: &wireBreakdown{ItemTotal: itemTotal, Discount: discount}},
	}
	for _, it := range r.Items {
		price, err := money(it.UnitAmount)
		if err != nil {
			return wireOrderRequest{}, err
		}
		unit.Items = append(unit.Items, wireItem{
			Name: text.Truncate(it.Name, maxIDLength), SKU: text.Truncate(it.SKU, maxIDLength),
			Quantity: strconv.Itoa(it.Quantity), UnitAmount: *price, Category: ItemCategoryDigitalGoods,
		})
	}
	return wireOrderRequest{
		Intent:        "CAPTURE",
		PurchaseUnits: []wirePurchaseUnit{unit},
		PaymentSource: &wirePaymentSource{PayPal: wirePayPalSource{ExperienceContext: wireExperienceContext{
			BrandName: r.BrandName, ShippingPreference: "NO_SHIPPING", UserAction: "PAY_NOW",
			ReturnURL: r.ReturnURL, CancelURL: r.CancelURL,
		}}},
	}, nil
}

// toOrder converts an order read from PayPal.
func (w wireOrder) toOrder() (Order, error) {
	o := Order{ID: w.ID, Intent: w.Intent, Status: OrderStatus(w.Status)}
	if w.ID == "" {
		return Order{}, fmt.Errorf("%w: order without id", ErrMalformedResponse)
	}
	for _, l := range w.Links {
		o.Links = append(o.Links, Link(l))
	}
	if p := w.Payer; p != nil {
		o.Payer = Payer{PayerID: p.PayerID, Email: p.EmailAddress}
		if p.Name != nil {
			o.Payer.GivenName, o.Payer.Surname = p.Name.GivenName, p.Name.Surname
		}
	}
	for _, wu := range w.PurchaseUnits {
		u := PurchaseUnit{ReferenceID: wu.ReferenceID, InvoiceID: wu.InvoiceID, CustomID: wu.CustomID}
		if wu.Amount != nil {
			amount, err := wu.Amount.fromWire()
			if err != nil {
				return Order{}, err
			}
			u.Amount = amount
		}
		if wu.Payments != nil {
			for _, wc := range wu.Payments.Captures {
				c, err := wc.toCapture()
				if err != nil {
					return Order{}, err
				}
				u.Captures = append(u.Captures, c)
			}
			for _, wr := range wu.Payments.Refunds {
				r, err := wr.toRefund()
				if err != nil {
					return Order{}, err
				}
				u.Refunds = append(u.Refunds, r)
			}
		}
		o.PurchaseUnits = append(o.PurchaseUnits, u)
	}
	return o, nil
}

// toCapture converts a capture read from PayPal.
func (w wireCapture) toCapture() (Capture, error) {
	amount, err := w.Amount.fromWire()
	if err != nil {
		return Capture{}, err
	}
	if w.ID == "" {
		return Capture{}, fmt.Errorf("%w: capture without id", ErrMalformedResponse)
	}
	c := Capture{ID: w.ID, Status: CaptureStatus(w.Status), Amount: amount, InvoiceID: w.InvoiceID,
		CustomID: w.CustomID, FinalCapture: w.FinalCapture}
	if w.StatusDetails != nil {
		c.StatusReason = w.StatusDetails.Reason
	}
	return c, nil
}

// toRefund converts a refund read from PayPal.
func (w wireRefund) toRefund() (Refund, error) {
	amount, err := w.Amount.fromWire()
	if err != nil {
		return Refund{}, err
	}
	if w.ID == "" {
		return Refund{}, fmt.Errorf("%w: refund without id", ErrMalformedResponse)
	}
	r := Refund{ID: w.ID, Status: RefundStatus(w.Status), Amount: amount, InvoiceID: w.InvoiceID}
	if w.StatusDetails != nil {
		r.StatusReason = w.StatusDetails.Reason
	}
	return r, nil
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
