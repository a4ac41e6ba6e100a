package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// basketAdd serves the LMS's links GET /basket/add/?sku=X[&sku=Y][&code=C]: the learner's open
// basket is replaced by those products (with the code applied), then the learner is sent to
// the payment page. Anything refused leaves the basket as it was.
func (f *shopFront) basketAdd(c *gin.Context) {
	user, ok := f.loggedIn(c)
	if !ok {
		return
	}
	_, err := f.replaceBasket(c.Request.Context(), user, c.QueryArray("sku"), c.Query("code"))
	if err != nil {
		f.failPage(c, err)
		return
	}
	target := f.paymentPageURL
	if target == "" {
		target = f.publicURL + "/basket/" // the service's own basket page
	}
	c.Redirect(http.StatusSeeOther, target)
}

// replaceBasket replaces the user's open basket with the SKUs and applies code (if any). The
// products and the code are checked before anything is written, so a refusal changes nothing.
func (f *shopFront) replaceBasket(ctx context.Context, user commerce.User, skus []string, code string) (commerce.Basket, error) {
	req := commerce.OneOfEachSKU(skus)
	if len(req.SKUs) == 0 {
		return commerce.Basket{}, commerce.Errorf(commerce.EInvalid, "No SKUs provided.")
	}
	items, err := f.basketItems(ctx, user, req)
	if err != nil {
		return commerce.Basket{}, err
	}
	var voucher *commerce.Voucher
	if strings.TrimSpace(code) != "" {
		v, err := f.voucherForItems(ctx, user, items, code)
		if err != nil {
			return commerce.Basket{}, err
		}
		voucher = &v
	}
	basket, err := f.store.ReplaceOpenBasket(ctx, user.ID, items)
	if err != nil || voucher == nil {
		return basket, err
	}
	return basket, f.store.SetBasketVoucher(ctx, basket.ID, voucher.ID)
}

// voucherForItems checks code as applying it to a basket of items would: valid for the user
// and these products, and taking something off.
func (f *shopFront) voucherForItems(ctx context.Context, user commerce.User, items []commerce.BasketItem, code string) (commerce.Voucher, error) {
	lines := commerce.ItemPriceLines(items)
	v, err := f.validVoucher(ctx, code, lines, user, 0)
	if err != nil {
		return v, err
	}
	discounts, err := f.discountsBasket(ctx, v, lines, user)
	if err == nil && !discounts {
		err = voucherError("%s", noDiscountText(v.Code))
	}
	return v, err
}
