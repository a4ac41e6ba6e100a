package text

import "testing"

func TestTruncateKeepsWholeRunes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"hello", 10, "hello"}, {"hello", 3, "hel"}, {"héllo", 2, "h"}, {"héllo", 3, "hé"}, {"é", 0, ""}} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestMaskSecret(t *testing.T) {
	if got := MaskSecret(""); got != `""` {
		t.Errorf("empty: %s", got)
	}
	if got := MaskSecret("s3cret"); got != "[masked]" {
		t.Errorf("set: %s", got)
	}
}
