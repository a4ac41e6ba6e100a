package commerce_test

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
)

// byteSource is a rand.Source driven by the fuzzer's bytes: each draw's top byte is the next
// input byte, so that mutating the input changes the basket generated; the other bits, and every
// draw once the input is used up, come from a fixed PCG.
type byteSource struct {
	data []byte
	pcg  *rand.PCG
}

func (s *byteSource) Uint64() uint64 {
	if len(s.data) == 0 {
		return s.pcg.Uint64()
	}
	b := s.data[0]
	s.data = s.data[1:]
	return uint64(b)<<56 | s.pcg.Uint64()>>8
}

// FuzzPriceBasket prices baskets made by the property tests' generators (genLines, genOffers),
// which the fuzzer steers through their random draws, and checks the same invariants
// (requireInvariants, checkOffersRespectLimits): totals never negative nor above the
// undiscounted total, two decimals, the offers' amounts summing to the line discounts, each
// offer within its limits; and the result does not depend on the order of lines or offers. The
// seeds (testdata/fuzz/FuzzPriceBasket) are a few byte strings; the fuzzer's own finds grow
// from them.
func FuzzPriceBasket(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := rand.New(&byteSource{data: data, pcg: rand.NewPCG(20260301, 0x9e3779b97f4a7c15)})
		seatTypes := 1 + r.IntN(len(genCerts))
		lines, offers := genLines(r, seatTypes), genOffers(r, seatTypes)
		buyer := genEmails[r.IntN(len(genEmails))]
		p, err := commerce.PriceBasket(lines, offers, buyer, testNow)
		if err != nil {
			t.Fatalf("PriceBasket: %v\nlines: %+v\noffers: %+v", err, lines, offers)
		}
		defer func() {
			if t.Failed() {
				t.Logf("lines: %+v\noffers: %+v\nbuyer: %+v\npricing: %+v", lines, offers, buyer, p)
			}
		}()
		requireInvariants(t, lines, p, true)
		checkOffersRespectLimits(t, lines, offers, buyer, p)

		want := resultOf(p)
		for _, reverse := range []bool{true, false} {
			shuffledLines, shuffledOffers := slices.Clone(lines), slices.Clone(offers)
			if reverse {
				slices.Reverse(shuffledLines)
				slices.Reverse(shuffledOffers)
			} else {
				r.Shuffle(len(shuffledLines), func(a, b int) { shuffledLines[a], shuffledLines[b] = shuffledLines[b], shuffledLines[a] })
				r.Shuffle(len(shuffledOffers), func(a, b int) { shuffledOffers[a], shuffledOffers[b] = shuffledOffers[b], shuffledOffers[a] })
			}
			q, err := commerce.PriceBasket(shuffledLines, shuffledOffers, buyer, testNow)
			if err != nil {
				t.Fatalf("PriceBasket of the reordered basket: %v", err)
			}
			if got := resultOf(q); !resultsEqual(got, want) {
				t.Fatalf("reordered lines %+v and offers priced %+v, in the first order %+v", shuffledLines, got, want)
			}
		}
	})
}

// resultsEqual compares two pricing results.
func resultsEqual(a, b result) bool {
	return a.totals == b.totals && slices.Equal(a.applied, b.applied) && maps.Equal(a.discounts, b.discounts)
}
