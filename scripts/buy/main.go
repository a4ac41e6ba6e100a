// Command buy walks through a purchase against a running `make run` the way a learner's
// browser would: it fills a basket and checks it out, posts the signed form to the hosted
// payment page, presses Pay (or Decline or Cancel), posts the signed reply back to the service
// and waits for the order.
//
//	TOKEN=$(go run ./cmd/ecommerce token --username alice)
//	go run ./scripts/buy --token "$TOKEN" --sku DD93C18 [--action pay|decline|cancel]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
)

func main() {
	api := flag.String("api", "http://127.0.0.1:8130", "base URL of the service")
	token := flag.String("token", "", "JWT of the buyer (ecommerce token --username ...)")
	sku := flag.String("sku", "", "partner SKU to buy")
	action := flag.String("action", "pay", "pay, decline or cancel on the hosted page")
	flag.Parse()
	if err := buy(*api, *token, *sku, *action); err != nil {
		fmt.Fprintln(os.Stderr, "buy:", err)
		os.Exit(1)
	}
}

func buy(api, token, sku, action string) error {
	if token == "" || sku == "" {
		return errors.New("--token and --sku are required")
	}
	var basket struct {
		ID          int64 `json:"id"`
		Order       *struct{ Number string }
		PaymentData *struct {
			PaymentFormData map[string]string `json:"payment_form_data"`
			PaymentPageURL  string            `json:"payment_page_url"`
		} `json:"payment_data"`
	}
	body := fmt.Sprintf(`{"products":[{"sku":%q}],"checkout":true}`, sku)
	if err := call("POST", api+"/api/v2/baskets/", token, body, &basket); err != nil {
		return err
	}
	if basket.Order != nil {
		fmt.Println("free order placed:", basket.Order.Number)
		return waitForOrder(api, token, basket.Order.Number)
	}
	fmt.Printf("basket %d frozen; paying at %s\n", basket.ID, basket.PaymentData.PaymentPageURL)
	form := url.Values{}
	for k, v := range basket.PaymentData.PaymentFormData {
		form.Set(k, v)
	}
	page, err := post(basket.PaymentData.PaymentPageURL, form)
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`name="session" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("the payment page has no session:\n%s", page)
	}
	confirmURL := strings.TrimSuffix(basket.PaymentData.PaymentPageURL, "/pay") + "/pay/confirm"
	reply, err := post(confirmURL, url.Values{"session": {string(m[1])}, "action": {action}})
	if err != nil {
		return err
	}
	target, fields, err := cybersim.ParseAutoSubmitForm(reply)
	if err != nil {
		return err
	}
	fmt.Printf("hosted page answered %s; posting the reply to %s\n", fields["decision"], target)
	back := url.Values{}
	for k, v := range fields {
		back.Set(k, v)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(target, back)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Println("service answered", resp.Status, "->", resp.Header.Get("Location"))
	if fields["decision"] != "ACCEPT" {
		return nil
	}
	return waitForOrder(api, token, fields["req_reference_number"])
}

func waitForOrder(api, token, number string) error {
	var order struct {
		Status string `json:"status"`
	}
	for i := 0; i < 60; i++ {
		if err := call("GET", api+"/api/v2/orders/"+number+"/", token, "", &order); err == nil && order.Status == "Complete" {
			fmt.Println("order", number, "is Complete: the learner is enrolled")
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("order %s is %q after 30 s; see the Temporal UI (OrderNumber = '%s')", number, order.Status, number)
}

func call(method, u, token, body string, out any) error {
	req, err := http.NewRequest(method, u, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "JWT "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s %s", method, u, resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

func post(u string, form url.Values) ([]byte, error) {
	resp, err := http.PostForm(u, form)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("POST %s: %s %s", u, resp.Status, raw)
	}
	return raw, nil
}
