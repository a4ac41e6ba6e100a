package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
)

// shopFront serves what a learner's browser reaches outside /api/v2/: the backend for edX's
// payment page (frontend-app-payment) under /bff/payment/v0/, the LMS's /basket/add/ links and
// free checkout. Its wire contract is docs reference/payment-mfe.md.
type shopFront struct {
	*Server
	// paymentPageURL is where /basket/add/ sends the learner; empty shows the basket instead.
	paymentPageURL string
	// lmsURL is the LMS's base URL (its /login page and course about pages).
	lmsURL string
}

// shopFrontRoutes registers the payment page's BFF, /basket/add/ and free checkout. The
// slashless capture-context and voucher paths are routes of their own: a browser refuses a
// redirect on a preflight.
func (s *Server) shopFrontRoutes(r *gin.Engine, cfg Config) {
	f := &shopFront{Server: s, paymentPageURL: cfg.PaymentPageURL, lmsURL: strings.TrimRight(cfg.LMSURL, "/")}
	bff := r.Group("/bff/payment/v0", requireUser)
	bff.GET("/payment/", f.bffPayment)
	bff.GET("/capture-context", f.bffCaptureContext)
	bff.GET("/capture-context/", f.bffCaptureContext)
	bff.POST("/vouchers/", f.bffAddVoucher)
	bff.DELETE("/vouchers/:id", f.bffRemoveVoucher)
	bff.DELETE("/vouchers/:id/", f.bffRemoveVoucher)
	bff.POST("/quantity/", f.bffSetQuantity)
	r.GET("/basket/add/", f.basketAdd)
	r.GET("/checkout/free-checkout/", f.freeCheckout)
}

// openBasket returns the user's open basket; found is false when the user has none.
func (s *Server) openBasket(ctx context.Context, user commerce.User) (b commerce.Basket, found bool, err error) {
	b, err = s.store.OpenBasket(ctx, user.ID)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		return commerce.Basket{}, false, nil
	}
	return b, err == nil, err
}

// decimalNumber is a decimal written as a JSON number with the decimal's own digits, the way
// Python prints the float edX makes of it: 49.0, 39.2, 0.99. It never goes through a float.
type decimalNumber decimal.Decimal

// MarshalJSON writes the number.
func (d decimalNumber) MarshalJSON() ([]byte, error) {
	s := decimal.Decimal(d).String()
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return []byte(s), nil
}

// bffBasket is the basket document of the payment page (reference payment-mfe.md §2).
type bffBasket struct {
	BasketID         *int64         `json:"basket_id"`
	Currency         *string        `json:"currency"`
	IsFreeBasket     bool           `json:"is_free_basket"`
	EnableStripe     bool           `json:"enable_stripe_payment_processor"`
	ShowCouponForm   bool           `json:"show_coupon_form"`
	SummaryPrice     decimalNumber  `json:"summary_price"`
	SummaryDiscounts decimalNumber  `json:"summary_discounts"`
	OrderTotal       decimalNumber  `json:"order_total"`
	SummaryQuantity  *int           `json:"summary_quantity,omitempty"`
	SummarySubtotal  *decimalNumber `json:"summary_subtotal,omitempty"`
	Products         []bffProduct   `json:"products"`
	Offers           []bffOffer     `json:"offers"`
	Coupons          []bffCoupon    `json:"coupons"`
	Messages         []bffMessage   `json:"messages"`
}

// bffProduct is a basket line as the payment page shows it.
type bffProduct struct {
	CourseKey       *string `json:"course_key"`
	SKU             string  `json:"sku"`
	Title           string  `json:"title"`
	ProductType     string  `json:"product_type"`
	CertificateType *string `json:"certificate_type"`
	ImageURL        *string `json:"image_url"`
	Subject         *string `json:"subject"`
}

// bffOffer is a site offer applied to the basket (not a voucher's own offer).
type bffOffer struct {
	Provider     *string       `json:"provider"`
	Name         string        `json:"name"`
	BenefitType  string        `json:"benefit_type"`
	BenefitValue decimalNumber `json:"benefit_value"`
}

// bffCoupon is the voucher on the basket.
type bffCoupon struct {
	ID           int64          `json:"id"`
	Code         string         `json:"code"`
	BenefitType  *string        `json:"benefit_type"`
	BenefitValue *decimalNumber `json:"benefit_value"`
}

// bffMessage is a message for the page: a text, or a code the page renders itself.
type bffMessage struct {
	Code        string            `json:"code,omitempty"`
	MessageType string            `json:"message_type"`
	UserMessage string            `json:"user_message,omitempty"`
	Data        map[string]string `json:"data,omitempty"`
}

// Message types of the page.
const (
	messageInfo    = "info"
	messageWarning = "warning"
	messageError   = "error"
)

func info(format string, args ...any) bffMessage {
	return bffMessage{MessageType: messageInfo, UserMessage: fmt.Sprintf(format, args...)}
}

// asMessage turns a refusal (an EInvalid domain error) into an error message for the page;
// any other error is not the learner's to fix and comes back as is.
func asMessage(err error) (bffMessage, error) {
	var e *commerce.Error
	if !errors.As(err, &e) || e.Code != commerce.EInvalid {
		return bffMessage{}, err
	}
	text := e.UserMessage
	if text == "" {
		text = e.Message
	}
	return bffMessage{MessageType: messageError, UserMessage: text}, nil
}

// bffRespond answers with the user's basket as it is now and msgs: 400 when a message is an
// error, else 200. A 400 still carries the whole basket, which the page shows under the alert.
func (f *shopFront) bffRespond(c *gin.Context, user commerce.User, msgs ...bffMessage) {
	ctx := c.Request.Context()
	b, found, err := f.openBasket(ctx, user)
	var doc bffBasket
	if err == nil {
		doc, err = f.basketDocument(ctx, b, found)
	}
	if err != nil {
		f.fail(c, err)
		return
	}
	doc.Messages = append(append([]bffMessage{}, msgs...), doc.Messages...)
	status := http.StatusOK
	for _, m := range doc.Messages {
		if m.MessageType == messageError {
			status = statusFor[commerce.EInvalid]
		}
	}
	c.JSON(status, doc)
}

// basketDocument prices the basket and shapes it for the page; no basket, or an empty one, is
// a document without products.
func (f *shopFront) basketDocument(ctx context.Context, b commerce.Basket, found bool) (bffBasket, error) {
	doc := bffBasket{IsFreeBasket: true, Products: []bffProduct{}, Offers: []bffOffer{}, Coupons: []bffCoupon{}, Messages: []bffMessage{}}
	if found {
		doc.BasketID = &b.ID
	}
	if len(b.Lines) == 0 {
		return doc, nil
	}
	pricing, voucher, _, err := f.priceBasket(ctx, b)
	if err == nil {
		doc.Products, err = f.bffProducts(ctx, b)
	}
	if err != nil {
		return doc, err
	}
	doc.Currency = &pricing.Totals.Currency
	f.setSummary(&doc, b, commerce.Summarize(b, pricing.Totals))
	doc.Offers = bffOffers(pricing.Offers)
	if voucher != nil && doc.ShowCouponForm {
		doc.Coupons = []bffCoupon{toBFFCoupon(*voucher)}
	}
	return doc, nil
}

// setSummary puts the basket's summary in the document: the totals, and for enrollment codes
// the quantity, the subtotal and no coupon form.
func (f *shopFront) setSummary(doc *bffBasket, b commerce.Basket, summary commerce.BasketSummary) {
	doc.IsFreeBasket, doc.ShowCouponForm = summary.IsFree(), !summary.EnrollmentCodes
	doc.SummaryPrice, doc.SummaryDiscounts, doc.OrderTotal = decimalNumber(summary.Price), decimalNumber(summary.Discounts), decimalNumber(summary.Total)
	if summary.EnrollmentCodes {
		subtotal := decimalNumber(summary.Subtotal)
		doc.SummaryQuantity, doc.SummarySubtotal = &summary.Quantity, &subtotal
		doc.Messages = f.enrollmentCodeWarning(b)
	}
}

// enrollmentCodeWarning is edX's note on a basket of one enrollment code (a learner buying for
// themselves should enroll directly); the page renders it from its code.
func (f *shopFront) enrollmentCodeWarning(b commerce.Basket) []bffMessage {
	if b.NumItems() != 1 || f.lmsURL == "" {
		return []bffMessage{}
	}
	about := f.lmsURL + "/courses/" + b.Lines[0].Product.CourseID + "/about"
	return []bffMessage{{Code: "single-enrollment-code-warning", MessageType: messageInfo, Data: map[string]string{"course_about_url": about}}}
}

// bffProducts shapes the basket's lines; a product's title is its course's name, as edX shows it.
func (f *shopFront) bffProducts(ctx context.Context, b commerce.Basket) ([]bffProduct, error) {
	names := map[string]string{}
	out := make([]bffProduct, len(b.Lines))
	for i, l := range b.Lines {
		p := l.Product
		out[i] = bffProduct{SKU: p.StockRecord.PartnerSKU, Title: p.Title, ProductType: string(p.Class),
			CourseKey: optional(p.CourseID), CertificateType: optional(p.CertificateType)}
		if p.Class == commerce.ClassEnrollmentCode {
			out[i].CertificateType = optional(p.SeatType)
		}
		name, err := f.courseName(ctx, p.CourseID, names)
		if err != nil {
			return nil, err
		}
		if name != "" {
			out[i].Title = name
		}
	}
	return out, nil
}

// courseName is the name of the course (remembered in names), or "" when there is none.
func (f *shopFront) courseName(ctx context.Context, id string, names map[string]string) (string, error) {
	if name, ok := names[id]; ok || id == "" {
		return name, nil
	}
	course, err := f.store.Course(ctx, id, false)
	if err != nil && commerce.ErrorCodeOf(err) != commerce.ENotFound {
		return "", err
	}
	names[id] = course.Name
	return course.Name, nil
}

// optional is nil for "" (JSON null), else a pointer to s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// bffOffers lists the site offers applied; a voucher's own offer shows as its coupon.
func bffOffers(applied []commerce.AppliedOffer) []bffOffer {
	out := []bffOffer{}
	for _, a := range applied {
		if a.Type == commerce.OfferSite {
			out = append(out, bffOffer{Name: a.Name, BenefitType: string(a.BenefitType), BenefitValue: decimalNumber(a.BenefitValue)})
		}
	}
	return out
}

// toBFFCoupon shows a voucher with the benefit of its first offer.
func toBFFCoupon(v commerce.Voucher) bffCoupon {
	out := bffCoupon{ID: v.ID, Code: v.Code}
	if len(v.Offers) > 0 {
		t, value := string(v.Offers[0].Benefit.Type), decimalNumber(v.Offers[0].Benefit.Value)
		out.BenefitType, out.BenefitValue = &t, &value
	}
	return out
}

// bffPayment answers GET payment/: the learner's basket (?discount_jwt= is ignored: this
// service has no LMS dynamic discounts).
func (f *shopFront) bffPayment(c *gin.Context) {
	user, _ := currentUser(c)
	f.bffRespond(c, user)
}

// bffCaptureContext answers the card form's capture context: none of our processors needs
// one, so the page gets the empty object it expects then.
func (f *shopFront) bffCaptureContext(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{})
}

// bffAddVoucher applies {"code"} to the learner's basket with the checks of the vouchers API.
func (f *shopFront) bffAddVoucher(c *gin.Context) {
	user, _ := currentUser(c)
	code, err := voucherCode(c)
	var msg bffMessage
	if err == nil {
		msg, err = f.applyVoucher(c.Request.Context(), user, code)
	} else {
		msg, err = asMessage(err) // a body the page did not mean: still the basket, with why
	}
	if err != nil {
		f.fail(c, err)
		return
	}
	f.bffRespond(c, user, msg)
}

// applyVoucher applies code to the user's open basket and says how that went: a refused code
// is an error and leaves the basket as it was; a valid code that takes nothing off is edX's
// warning and is not applied.
func (f *shopFront) applyVoucher(ctx context.Context, user commerce.User, code string) (bffMessage, error) {
	b, found, err := f.openBasket(ctx, user)
	if err != nil {
		return bffMessage{}, err
	}
	if !found {
		b = commerce.Basket{Status: commerce.BasketOpen} // checkVoucher refuses an empty basket
	}
	v, err := f.checkVoucher(ctx, b, code)
	if err != nil {
		return asMessage(err)
	}
	discounts, err := f.discountsBasket(ctx, v, commerce.PriceLines(b.Lines), user)
	if err != nil {
		return bffMessage{}, err
	}
	if !discounts {
		return bffMessage{MessageType: messageWarning, UserMessage: noDiscountText(v.Code)}, nil
	}
	if err := f.store.SetBasketVoucher(ctx, b.ID, v.ID); err != nil {
		return asMessage(err)
	}
	return info("Coupon code '%s' added to basket.", v.Code), nil
}

// bffRemoveVoucher takes the voucher of the path's id off the learner's basket.
func (f *shopFront) bffRemoveVoucher(c *gin.Context) {
	user, _ := currentUser(c)
	id, ok := f.pathID(c)
	if !ok {
		return
	}
	msg, err := f.removeBasketVoucher(c.Request.Context(), user, id)
	if err != nil {
		f.fail(c, err)
		return
	}
	f.bffRespond(c, user, msg)
}

// removeBasketVoucher takes voucher id off the user's open basket, with edX's messages.
func (f *shopFront) removeBasketVoucher(ctx context.Context, user commerce.User, id int64) (bffMessage, error) {
	b, found, err := f.openBasket(ctx, user)
	var v *commerce.Voucher
	if err == nil && found {
		v, err = f.store.BasketVoucher(ctx, b.ID)
	}
	if err != nil {
		return bffMessage{}, err
	}
	if v == nil || v.ID != id {
		return asMessage(voucherError("No coupon found with id '%d'", id))
	}
	if err := f.store.RemoveBasketVoucher(ctx, b.ID, id); err != nil {
		return bffMessage{}, err
	}
	return info("Coupon code '%s' was removed from your basket.", v.Code), nil
}

// quantityRequest is the body of POST quantity/.
type quantityRequest struct {
	Quantity json.RawMessage `json:"quantity"`
}

// bffSetQuantity changes how many enrollment codes the learner's basket buys.
func (f *shopFront) bffSetQuantity(c *gin.Context) {
	user, _ := currentUser(c)
	var req quantityRequest
	err := decodeJSON(c, &req, false)
	var msg bffMessage
	if err == nil {
		msg, err = f.changeQuantity(c.Request.Context(), user, req.Quantity)
	} else {
		msg, err = asMessage(err)
	}
	if err != nil {
		f.fail(c, err)
		return
	}
	f.bffRespond(c, user, msg)
}

// changeQuantity sets the quantity of the user's enrollment-code basket (commerce's rule); the
// page builds its own success text from the message's code.
func (f *shopFront) changeQuantity(ctx context.Context, user commerce.User, raw json.RawMessage) (bffMessage, error) {
	b, _, err := f.openBasket(ctx, user)
	if err != nil {
		return bffMessage{}, err
	}
	text, _, _ := rawText(raw)
	q, convErr := strconv.Atoi(strings.TrimSpace(text))
	if convErr != nil {
		q = 0 // not a whole number: refused with the rule's message, which says what is accepted
	}
	items, err := b.WithQuantity(q)
	if err != nil {
		return asMessage(err)
	}
	if _, err := f.store.ReplaceOpenBasket(ctx, user.ID, items); err != nil {
		return asMessage(err)
	}
	return bffMessage{Code: "quantity-update-success-message", MessageType: messageInfo}, nil
}
