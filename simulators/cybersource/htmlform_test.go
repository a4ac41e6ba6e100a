package cybersource

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestParseAutoSubmitForm(t *testing.T) {
	page := `<html><body><FORM id=x Method="post" ACTION='https://a.example/r?x=1&amp;y=2'>
<input type="hidden" name="plus" value="a&#43;b=">
<input name='quote' value='say "hi" &amp; &lt;go&gt;'>
<input type=hidden name=bare value=v1>
<input type="checkbox" name="off" value="1">
<input type="checkbox" name="on" value="1" checked>
<input type="submit" name="go" value="Go">
<input type="hidden" name="empty" value="">
<input type="hidden" name="plus" value="second is ignored">
</form><form action="/other"><input name="later" value="1"></form></body></html>`
	action, fields, err := ParseAutoSubmitForm([]byte(page))
	if err != nil {
		t.Fatalf("ParseAutoSubmitForm: %v", err)
	}
	if action != "https://a.example/r?x=1&y=2" {
		t.Errorf("action = %q", action)
	}
	want := map[string]string{"plus": "a+b=", "quote": `say "hi" & <go>`, "bare": "v1", "on": "1", "empty": ""}
	if !maps.Equal(fields, want) {
		t.Errorf("fields = %v, want %v", fields, want)
	}
	if _, _, err := ParseAutoSubmitForm([]byte("<p>no form</p>")); !errors.Is(err, ErrNoForm) {
		t.Errorf("no form: err = %v, want ErrNoForm", err)
	}
}

func TestReplyPageRoundTrip(t *testing.T) {
	reply := map[string]string{
		"signature":   "qU4fRskS/R9yZx/yPq62sFGOUzX0GSUtmeI6bPVsqao=",
		"req_item":    `Démo "course" & <b>seat</b> 'x'`,
		"message":     "</script><script>alert(1)</script>",
		"empty_field": "",
	}
	rec := httptest.NewRecorder()
	writeReplyPage(rec, "https://shop.example/r/?a=1&b=2", reply)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	action, fields, err := ParseAutoSubmitForm(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if action != "https://shop.example/r/?a=1&b=2" || !maps.Equal(fields, reply) {
		t.Fatalf("round trip changed the reply:\n%q %v\n%v", action, fields, reply)
	}
}
