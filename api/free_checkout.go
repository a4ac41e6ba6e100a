package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// freeCheckout serves GET /checkout/free-checkout/, where the payment page sends a learner whose
// basket costs nothing: the basket is frozen and its checkout started (which places the order
// without payment), then the learner sees the receipt.
func (f *shopFront) freeCheckout(c *gin.Context) {
	user, ok := f.loggedIn(c)
	if !ok {
		return
	}
	number, err := f.placeFreeBasket(c.Request.Context(), user)
	if err != nil {
		f.failPage(c, err)
		return
	}
	c.Redirect(http.StatusFound, f.receiptURL(number))
}

// errEmptyBasket refuses to check out a learner who has nothing in a basket.
var errEmptyBasket = commerce.UserError(commerce.EInvalid,
	"The user has no open basket with products; there is nothing to check out.", "Your basket is empty.")

// placeFreeBasket freezes the user's open basket and starts its checkout as POST
// /api/v2/baskets/ with checkout does, and returns the order number. A basket that is not free
// when it is frozen is refused and stays open.
func (f *shopFront) placeFreeBasket(ctx context.Context, user commerce.User) (string, error) {
	b, found, err := f.openBasket(ctx, user)
	if err != nil {
		return "", err
	}
	if !found || len(b.Lines) == 0 {
		return "", errEmptyBasket
	}
	proc, err := f.processor("", "Payment processor [%s] not found.")
	if err != nil {
		return "", err
	}
	co, _, err := f.startCheckout(ctx, user, b.ID, freeOnly{proc})
	return co.OrderNumber, err
}

// freeOnly is the processor of free checkout: it bears the default processor's name, so the
// checkout is the one POST /api/v2/baskets/ would start, but it builds no payment, so a basket
// that is not free when it is frozen fails the freeze and is not frozen at all.
type freeOnly struct{ PaymentProcessor }

// PaymentData refuses: a checkout that needs a payment is not free.
func (freeOnly) PaymentData(co commerce.Checkout) (commerce.PaymentData, error) {
	return commerce.PaymentData{}, commerce.UserError(commerce.EInvalid,
		fmt.Sprintf("Basket [%d] is not free: %s %s is to be paid.", co.BasketID, commerce.FormatMoney(co.Total), co.Currency),
		"Your basket is not free; please pay for it on the payment page.")
}
