package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimiterIsATokenBucketPerSource(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(2, 3, 100)
	now := time.Unix(1_000_000, 0)
	for i := 0; i < 3; i++ {
		require.True(t, l.take("a", now).allowed, "burst %d", i)
	}
	v := l.take("a", now)
	require.False(t, v.allowed)
	require.Equal(t, 500*time.Millisecond, v.retryAfter)
	require.Equal(t, 1, v.logRefused, "the first refusal is logged")
	require.Zero(t, l.take("a", now).logRefused, "then at most once a minute")
	require.True(t, l.take("b", now).allowed, "another source has its own bucket")

	now = now.Add(500 * time.Millisecond)
	require.True(t, l.take("a", now).allowed, "a token every 1/rate seconds")
	require.False(t, l.take("a", now).allowed)

	start := now
	for _, at := range []time.Duration{30 * time.Second, 61 * time.Second} {
		now = start.Add(at)
		for i := 0; i < 3; i++ {
			require.True(t, l.take("a", now).allowed, "refilled to the burst, no more")
		}
		v = l.take("a", now)
		require.False(t, v.allowed)
	}
	require.Equal(t, 4, v.logRefused, "a minute later, the refusals since the last log line")
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(1, 2, 100)
	now := time.Unix(1_000_000, 0)
	for i := 0; i < 10_000; i++ {
		l.take(fmt.Sprintf("198.51.%d.%d", i/256, i%256), now.Add(time.Duration(i)*time.Millisecond))
		require.LessOrEqual(t, l.tracked(), 100)
	}
	require.Equal(t, 100, l.tracked())

	later := now.Add(time.Hour)
	l.take("203.0.113.1", later)
	require.Equal(t, 1, l.tracked(), "idle sources, whose buckets are full again, are forgotten")
}

func TestDefaultRateLimitNeverThrottlesALoadRun(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(DefaultCallbackRate, DefaultCallbackBurst, maxRateSources)
	now := time.Unix(1_000_000, 0)
	// 20 purchases a second for ten minutes, a notification and a redirect each, from one
	// address, with a second's worth of jitter bunched up every ten seconds.
	for tick := 0; tick < 600*40; tick++ {
		at := now.Add(time.Duration(tick) * time.Second / 40)
		if tick%400 == 0 {
			for i := 0; i < 40; i++ {
				require.True(t, l.take("127.0.0.1", at).allowed, "bunched request %d at tick %d", i, tick)
			}
		}
		require.True(t, l.take("127.0.0.1", at).allowed, "tick %d", tick)
	}
	flood := 0
	for i := 0; i < 1000; i++ {
		if l.take("192.0.2.66", now.Add(time.Duration(i)*time.Millisecond)).allowed {
			flood++
		}
	}
	require.Less(t, flood, 400, "a source sending 1000 a second is held to about the burst plus the rate")
}

func TestSourceGroupsIPv6ByPrefix(t *testing.T) {
	t.Parallel()
	require.Equal(t, "2001:db8:1:2::/64", sourceKey("2001:db8:1:2:aaaa::1"))
	require.Equal(t, "2001:db8:1:2::/64", sourceKey("2001:db8:1:2:bbbb::2"))
	require.Equal(t, "192.0.2.1", sourceKey("192.0.2.1"))
	require.Equal(t, "", sourceKey(""))
}
