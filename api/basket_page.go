package api

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
)

// The service's own shop pages (the basket page, the coupon offer page and the form that takes
// the browser to a processor) for a server without edX's payment page: server-rendered HTML
// over the same basket document, voucher rules and checkout as the payment page's BFF. Their
// forms post with the CSRF token in CSRFFormField.

//go:embed templates/*.html
var templateFiles embed.FS

// shopTemplates are the pages of templates/, each a named template.
var shopTemplates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// shopPageRoutes registers the basket page, its forms and the coupon offer page.
func (s *Server) shopPageRoutes(r *gin.Engine, cfg Config) {
	f := &shopFront{Server: s, paymentPageURL: cfg.PaymentPageURL, lmsURL: strings.TrimRight(cfg.LMSURL, "/")}
	r.GET("/basket/", f.basketPage)
	r.POST("/basket/vouchers/", f.basketApplyVoucher)
	r.POST("/basket/vouchers/remove/", f.basketRemoveVoucher)
	r.POST("/basket/checkout/", f.basketCheckout)
	r.GET("/coupons/offer/", f.couponOffer)
}

// renderShopPage answers with the named template of shopTemplates executed with data.
func (s *Server) renderShopPage(c *gin.Context, status int, name string, data any) {
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := shopTemplates.ExecuteTemplate(c.Writer, name, data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render a shop page", "page", name, "err", err)
	}
	c.Abort()
}

// basketView is what the basket page shows: the basket document of the payment page, with
// money written with two decimals and its currency.
type basketView struct {
	// Base is the service's public URL, before the forms' paths.
	Base      string
	CSRFField string
	CSRFToken string
	Messages  []pageMessage
	BasketID  int64
	Lines     []basketViewLine
	// Offers are the site offers applied, described.
	Offers []string
	Coupon *basketViewCoupon
	// ShowCouponForm is false for an empty basket and for enrollment codes.
	ShowCouponForm bool
	// Quantity is the number of enrollment codes bought (then Price is the price of one); 0 for
	// other baskets.
	Quantity                int
	Price, Discounts, Total string
	// Free is a basket that is placed without payment.
	Free       bool
	Processors []processorChoice
}

// basketViewLine is a basket line on the page.
type basketViewLine struct {
	Title, Kind, Mode string
	Quantity          int
	// Price is the unit price.
	Price string
}

// basketViewCoupon is the voucher on the basket.
type basketViewCoupon struct {
	ID      int64
	Code    string
	Benefit string
}

// processorChoice is a processor the learner may pay with.
type processorChoice struct {
	Name, Label string
	Checked     bool
}

// pageMessage is a message of the page: a text and maybe a link.
type pageMessage struct {
	Type, Text     string
	Link, LinkText string
}

// hasError reports whether a message of the page is an error (the page is then a 400).
func (v basketView) hasError() bool {
	return slices.ContainsFunc(v.Messages, func(m pageMessage) bool { return m.Type == messageError })
}

// processorLabels name the processors for learners.
var processorLabels = map[string]string{cybersourceName: "Credit or debit card", paypalName: "PayPal"}

// basketPage serves GET /basket/: the learner's open basket.
func (f *shopFront) basketPage(c *gin.Context) {
	user, ok := f.loggedIn(c)
	if !ok {
		return
	}
	f.renderBasket(c, user)
}

// renderBasket shows the user's basket as it is now with msgs first: a 400 when one is an
// error (the basket is shown all the same), else a 200.
func (f *shopFront) renderBasket(c *gin.Context, user commerce.User, msgs ...bffMessage) {
	v, err := f.basketView(c.Request.Context(), user, msgs)
	if err != nil {
		f.failPage(c, err)
		return
	}
	v.CSRFToken = f.csrf.pageToken(c)
	status := http.StatusOK
	if v.hasError() {
		status = statusFor[commerce.EInvalid]
	}
	f.renderShopPage(c, status, "basket", v)
}

// basketView builds the page of the user's open basket from the payment page's basket document.
func (f *shopFront) basketView(ctx context.Context, user commerce.User, msgs []bffMessage) (basketView, error) {
	b, found, err := f.openBasket(ctx, user)
	var doc bffBasket
	if err == nil {
		doc, err = f.basketDocument(ctx, b, found)
	}
	if err != nil {
		return basketView{}, err
	}
	v := basketView{Base: f.publicURL, CSRFField: CSRFFormField, BasketID: b.ID,
		Messages: pageMessages(append(append([]bffMessage{}, msgs...), doc.Messages...))}
	if len(doc.Products) == 0 {
		return v, nil
	}
	currency := *doc.Currency
	money := func(d decimalNumber) string { return commerce.FormatMoney(decimal.Decimal(d)) + " " + currency }
	for i, p := range doc.Products {
		l := b.Lines[i] // the document's products are the basket's lines, in order
		v.Lines = append(v.Lines, basketViewLine{Title: p.Title, Kind: productKind(p.ProductType), Mode: deref(p.CertificateType),
			Quantity: l.Quantity, Price: commerce.FormatMoney(l.UnitPrice) + " " + l.Currency})
	}
	for _, o := range doc.Offers {
		v.Offers = append(v.Offers, o.Name+": "+benefitText(o.BenefitType, decimal.Decimal(o.BenefitValue), currency))
	}
	if len(doc.Coupons) > 0 {
		cp := doc.Coupons[0]
		v.Coupon = &basketViewCoupon{ID: cp.ID, Code: cp.Code}
		if cp.BenefitType != nil && cp.BenefitValue != nil {
			v.Coupon.Benefit = benefitText(*cp.BenefitType, decimal.Decimal(*cp.BenefitValue), currency)
		}
	}
	// One code a basket: with a coupon applied, the page offers its removal, not a second form.
	v.ShowCouponForm, v.Free = doc.ShowCouponForm && v.Coupon == nil, doc.IsFreeBasket
	v.Price, v.Discounts, v.Total = money(doc.SummaryPrice), money(doc.SummaryDiscounts), money(doc.OrderTotal)
	if doc.SummaryQuantity != nil {
		v.Quantity = *doc.SummaryQuantity
	}
	if f.checkouts != nil {
		for i, p := range f.processors {
			v.Processors = append(v.Processors, processorChoice{Name: p.Name(), Label: processorLabel(p.Name()), Checked: i == 0})
		}
	}
	return v, nil
}

// pageMessages words the document's messages for the page; a coded message the page does not
// know is left out.
func pageMessages(msgs []bffMessage) []pageMessage {
	out := []pageMessage{}
	for _, m := range msgs {
		switch m.Code {
		case "":
			out = append(out, pageMessage{Type: m.MessageType, Text: m.UserMessage})
		case "single-enrollment-code-warning":
			out = append(out, pageMessage{Type: m.MessageType,
				Text: "Purchasing just for yourself? If you are the learner, enroll directly instead of buying a code.",
				Link: m.Data["course_about_url"], LinkText: "Go to the course"})
		}
	}
	return out
}

// productKind names a product class for learners.
func productKind(class string) string {
	if class == string(commerce.ClassEnrollmentCode) {
		return "Enrollment code"
	}
	return class
}

// processorLabel names a processor for learners.
func processorLabel(name string) string {
	if label, ok := processorLabels[name]; ok {
		return label
	}
	return name
}

// benefitText says what a benefit takes off: "20% off", "10.00 USD off", "for 5.00 USD".
func benefitText(benefitType string, value decimal.Decimal, currency string) string {
	switch commerce.BenefitType(benefitType) {
	case commerce.BenefitPercentage:
		return value.String() + "% off"
	case commerce.BenefitFixedPrice:
		return "for " + commerce.FormatMoney(value) + " " + currency
	default:
		return commerce.FormatMoney(value) + " " + currency + " off"
	}
}

// deref is *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// formUser returns the user of a form post; a browser that is not logged in (any more) is sent
// to the basket page, which sends it to the LMS login.
func (f *shopFront) formUser(c *gin.Context) (commerce.User, bool) {
	user, ok := currentUser(c)
	if !ok {
		c.Redirect(http.StatusSeeOther, f.publicURL+"/basket/")
		c.Abort()
	}
	return user, ok
}

// basketApplyVoucher serves the voucher form (POST /basket/vouchers/, field code) with the
// payment page's rules and messages: a refused code changes nothing and is a 400 page.
func (f *shopFront) basketApplyVoucher(c *gin.Context) {
	user, ok := f.formUser(c)
	if !ok {
		return
	}
	code := c.PostForm("code")
	if strings.TrimSpace(code) == "" {
		f.renderBasket(c, user, bffMessage{MessageType: messageError, UserMessage: "Please enter a coupon code."})
		return
	}
	msg, err := f.applyVoucher(c.Request.Context(), user, code)
	if err != nil {
		f.failPage(c, err)
		return
	}
	f.renderBasket(c, user, msg)
}

// basketRemoveVoucher serves the coupon's Remove button (POST /basket/vouchers/remove/, field
// voucher_id).
func (f *shopFront) basketRemoveVoucher(c *gin.Context) {
	user, ok := f.formUser(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.PostForm("voucher_id"), 10, 64)
	if err != nil {
		id = 0 // no such voucher: refused with the payment page's message
	}
	msg, err := f.removeBasketVoucher(c.Request.Context(), user, id)
	if err != nil {
		f.failPage(c, err)
		return
	}
	f.renderBasket(c, user, msg)
}

// basketCheckout serves the Pay button (POST /basket/checkout/, fields basket_id and
// payment_processor): the basket is frozen and its checkout started as POST /api/v2/checkout/
// does (asking again answers the same), then the browser goes to the processor's page.
func (f *shopFront) basketCheckout(c *gin.Context) {
	user, ok := f.formUser(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.PostForm("basket_id"), 10, 64)
	if err != nil || id <= 0 {
		f.failPage(c, commerce.FieldError("basket_id", "A basket id (a positive integer) is required."))
		return
	}
	proc, err := f.processor(c.PostForm("payment_processor"), "Payment processor [%s] not found.")
	var data commerce.PaymentData
	if err == nil {
		_, data, err = f.startCheckout(c.Request.Context(), user, id, proc)
	}
	if err != nil {
		f.failPage(c, err)
		return
	}
	f.toPaymentPage(c, data)
}

// paymentFormView is a processor's form that the browser posts to its payment page.
type paymentFormView struct {
	URL    string
	Fields []paymentField
}

// paymentField is a field of a processor's form.
type paymentField struct{ Name, Value string }

// toPaymentPage sends the browser to the processor's page: a form of fields (CyberSource's
// signed fields) is posted there by the browser, a page without fields (PayPal's approval
// page; the receipt of a free basket) is a redirect.
func (f *shopFront) toPaymentPage(c *gin.Context, data commerce.PaymentData) {
	if data.PaymentPageURL == "" {
		f.failPage(c, commerce.Errorf(commerce.EInternal, "processor %s gave no payment page", data.Processor))
		return
	}
	if len(data.FormData) == 0 {
		c.Redirect(http.StatusSeeOther, data.PaymentPageURL)
		return
	}
	v := paymentFormView{URL: data.PaymentPageURL}
	for name, value := range data.FormData {
		v.Fields = append(v.Fields, paymentField{Name: name, Value: value})
	}
	slices.SortFunc(v.Fields, func(a, b paymentField) int { return strings.Compare(a.Name, b.Name) })
	f.renderShopPage(c, http.StatusOK, "payment-form", v)
}
