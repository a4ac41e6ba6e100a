// Package text holds the small string helpers the service's clients share when they quote
// what a remote answered or describe their configuration.
package text

import "unicode/utf8"

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// MaskSecret describes a secret for logs and %v: `""` when it is empty, else [masked].
func MaskSecret(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[masked]"
}
