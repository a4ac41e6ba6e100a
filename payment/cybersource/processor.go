package cybersource

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
)

// Processor adapts Secure Acceptance to the service: payment data for a checkout and normalised
// payment notifications from replies.
type Processor struct {
	Config Config
	// PublicURL is the service's external base URL; CyberSource posts the browser back to
	// {PublicURL}/payment/cybersource/redirect/.
	PublicURL string
}

// Name is the processor name used in the API ("cybersource").
func (p Processor) Name() string { return Name }

// ReceiptURL is where CyberSource posts the signed reply through the browser.
func (p Processor) ReceiptURL() string {
	return strings.TrimRight(p.PublicURL, "/") + "/payment/cybersource/redirect/"
}

// PaymentData builds the signed form of a checkout. The transaction uuid derives from the order
// number, so building it twice gives the same form (and CyberSource refuses a second payment of
// the same attempt with reason 104).
func (p Processor) PaymentData(c commerce.Checkout) (commerce.PaymentData, error) {
	sum := sha256.Sum256([]byte("cybersource-transaction:" + c.OrderNumber))
	req := PaymentRequest{
		OrderNumber: c.OrderNumber, Amount: c.Total, Currency: c.Currency, Username: c.Username,
		ReceiptURL: p.ReceiptURL(), CancelURL: p.ReceiptURL(),
		TransactionUUID: hex.EncodeToString(sum[:16]), SignedAt: c.FrozenAt,
	}
	for _, l := range c.Lines {
		req.Lines = append(req.Lines, LineItem{
			SKU: l.SKU, Name: l.Title, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			Discount: l.LinePriceBeforeDiscounts.Sub(l.LinePrice), Total: l.LinePrice,
		})
	}
	fields, err := p.Config.PaymentFormData(req)
	if err != nil {
		return commerce.PaymentData{}, fmt.Errorf("cybersource payment form for %s: %w", c.OrderNumber, err)
	}
	return commerce.PaymentData{Processor: Name, PaymentPageURL: p.Config.PaymentPageURL, FormData: fields}, nil
}

// Notification verifies a reply and normalises it. An inauthentic reply wraps
// commerce.ErrForgedMessage (and ErrInvalidSignature or ErrUnknownProfile); an authentic one
// that cannot be understood wraps commerce.ErrMalformedMessage.
func (p Processor) Notification(fields map[string]string) (commerce.PaymentNotification, error) {
	r, err := p.Config.ParseReply(fields)
	if IsForgery(err) {
		return commerce.PaymentNotification{}, fmt.Errorf("%w: %w", commerce.ErrForgedMessage, err)
	}
	if err != nil {
		return commerce.PaymentNotification{}, fmt.Errorf("%w: %w", commerce.ErrMalformedMessage, err)
	}
	n := commerce.PaymentNotification{
		Processor: Name, TransactionID: r.TransactionID, OrderNumber: r.OrderNumber,
		Outcome: commerce.PaymentOutcome(r.Outcome), Amount: r.Amount, Currency: r.Currency,
		CardType: r.CardType, Message: r.Message,
	}
	if n.OrderNumber == "" {
		n.OrderNumber = fields["req_reference_number"]
	}
	if len(r.CardNumber) >= 4 {
		n.Label = r.CardNumber[len(r.CardNumber)-4:]
		if r.CardType != "" && r.CardType != UnknownCardType {
			n.Label = cardLabel(r.CardType) + " " + n.Label
		}
	}
	return n, nil
}

// IsForgery reports whether a Notification error means the reply is not authentic (as opposed
// to authentic but malformed).
func IsForgery(err error) bool {
	return errors.Is(err, ErrInvalidSignature) || errors.Is(err, ErrUnknownProfile)
}

func cardLabel(cardType string) string {
	switch cardType {
	case "american_express":
		return "American Express"
	case "mastercard":
		return "Mastercard"
	}
	return strings.ToUpper(cardType[:1]) + cardType[1:]
}
