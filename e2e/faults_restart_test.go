package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// The restart scenarios of the fault suite stop a server the service depends on while learners
// buy, start it again, and count what was lost or duplicated. They need servers of their own
// (the rest of e2e shares PostgreSQL and the Temporal dev server): TestFaultTemporalRestart runs
// its own Temporal dev server on a file database, TestFaultPostgresRestart its own PostgreSQL
// cluster. The learners and the processor behave as the real ones do when the service is down:
// a request answered 503 is sent again after a pause, until it is accepted.

// How long a restarted server stays down: longer than 10 s, the Temporal SDK's RPC timeout (a
// call that finds Temporal down is retried that long before the API answers 503) and the
// start-to-close timeout of the workflows' database steps (local activities, whose retries
// ended there: see localRetryLimit in workflows/checkout.go).
const (
	temporalOutage = 15 * time.Second
	postgresOutage = 15 * time.Second
)

// outages is how many times a scenario of runs purchases stops its server: once, and once more
// per 100 purchases, each time after a further share of the notifications was accepted.
func outages(runs int) int { return 1 + runs/100 }

// TestFaultTemporalRestart kills the Temporal dev server (file database) with SIGKILL while
// learners check out and pay and their orders are placed and fulfilled, and starts it again on
// the same file and port after temporalOutage. Checkouts and callbacks are answered 503 while it
// is down and sent again; the worker reconnects and the orphan sweeper starts what was frozen.
func TestFaultTemporalRestart(t *testing.T) {
	runs := faultRuns(t)
	srv := startDevTemporal(t, "faults-"+randomHex(4))
	s := newStack(t, stackOptions{externalWorker: true, retryLimit: time.Hour,
		temporalAddress: srv.address, temporalNamespace: srv.namespace})
	s.waitForPollers()
	s.sweepOrphans()
	kills := s.buyWhileRestarting(runs, "temporal", temporalOutage, srv.kill, srv.start)
	lost, duplicated := s.tallyRestart(kills)
	faultReport(t, fmt.Sprintf("Temporal killed -9, restarted (%dx)", kills.count), runs, lost, duplicated)
}

// TestFaultPostgresRestart stops the service's PostgreSQL with `pg_ctl stop -m immediate` (a
// crash: no shutdown checkpoint, every connection cut) while learners check out and pay and
// their orders are placed and fulfilled, and starts it again after postgresOutage. Every request
// that needs the database is answered 503 meanwhile, the processor's callbacks included, and is
// sent again; the workflows' database steps are retried by Temporal.
func TestFaultPostgresRestart(t *testing.T) {
	runs := faultRuns(t)
	pg := startOwnPostgres(t)
	ns, err := freshNamespace("e2e-pg-" + randomHex(4)) // a namespace belongs to one deployment: this database's
	require.NoError(t, err)
	s := newStack(t, stackOptions{externalWorker: true, retryLimit: time.Hour, databaseURL: pg.url, temporalNamespace: ns})
	s.waitForPollers()
	s.sweepOrphans()
	stops := s.buyWhileRestarting(runs, "postgres", postgresOutage, pg.stop, pg.start)
	lost, duplicated := s.tallyRestart(stops)
	faultReport(t, fmt.Sprintf("PostgreSQL stopped, restarted (%dx)", stops.count), runs, lost, duplicated)
}

// waitForPollers waits until the worker polls the stack's task queue for workflow and activity
// tasks: a worker process that finds Temporal down while it starts exits (ecommerce worker
// refuses to run when it cannot verify the namespace), so no outage may begin before.
func (s *stack) waitForPollers() {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := s.temporal.DescribeTaskQueue(context.Background(), s.taskQueue, typ)
			if assert.NoError(c, err) {
				assert.NotEmpty(c, resp.GetPollers(), "pollers of %s", typ)
			}
		}
	}, time.Minute, 100*time.Millisecond)
}

// sweepOrphans runs the orphan sweeper on this stack's checkouts, as serve does, but every
// second and with a 5 s grace (serve: ORPHAN_SWEEP_INTERVAL 1m and a 1 minute grace).
func (s *stack) sweepOrphans() {
	ctx, cancel := context.WithCancel(context.Background())
	sw := &workflows.OrphanSweeper{Store: s.store, Checkouts: s.checkouts, Logger: discardLogger, Grace: 5 * time.Second,
		Only: func(c commerce.Checkout) bool { return strings.HasPrefix(c.OrderNumber, s.partner+"-") }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sw.Run(ctx, time.Second)
	}()
	s.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// restartRun is what buyWhileRestarting did: the purchases, how many times the server was
// stopped, and when it was started again each time.
type restartRun struct {
	purchases []*purchase
	count     int
	restarts  []time.Time
}

// buyWhileRestarting has runs learners buy a seat each, 10 at a time, and stops the server
// (stop, then start after outage) once a share of the processor's notifications was
// accepted, outages(runs) times. It fails the test for any answer other than the success or a
// 503, and unless some request was answered 503 while the server was down.
func (s *stack) buyWhileRestarting(runs int, prefix string, outage time.Duration, stop, start func()) restartRun {
	s.t.Helper()
	ps := make([]*purchase, runs)
	skus := make(map[*purchase]string, runs)
	for i := range ps {
		course, sku := s.publishSeat("20.00")
		ps[i] = &purchase{user: fmt.Sprintf("%s-%d", prefix, i), course: course}
		skus[ps[i]] = sku
	}
	s.cs.SetSkipNotify(true) // the test is the processor's notifier, which retries
	s.lms.SetLatency(100 * time.Millisecond)
	var notified atomic.Int64
	answers := &answerLog{codes: map[string]map[int]int{}, slowest: map[string]time.Duration{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.each(ps, 10, func(p *purchase) { s.buyThroughOutage(p, skus[p], answers, &notified) })
	}()
	n := outages(runs)
	var down time.Duration
	var restarts []time.Time
	began := time.Now() // of the purchases, then of the server's last start
	for i := 1; i <= n; i++ {
		for notified.Load() < int64(i*runs/(n+1)) {
			select {
			case <-done:
				s.t.Fatalf("the purchases ended before outage %d", i)
			case <-time.After(10 * time.Millisecond):
			}
		}
		placed, complete := s.ordersPlaced()
		before := answers.unavailable.Load()
		stopped := time.Now()
		up := stopped.Sub(began)
		stop()
		time.Sleep(outage)
		start()
		began = time.Now()
		restarts = append(restarts, began)
		down += began.Sub(stopped)
		s.t.Logf("outage %d, %s after the start: down %s after %d of %d notifications (%d orders placed, %d complete); %d requests answered 503 while down",
			i, up.Round(time.Millisecond), began.Sub(stopped).Round(time.Millisecond), notified.Load(), runs, placed, complete, answers.unavailable.Load()-before)
	}
	<-done
	s.t.Logf("answers (down %s in all): %v", down.Round(time.Millisecond), answers.summary())
	require.Positive(s.t, answers.unavailable.Load(), "no request met the outage")
	return restartRun{purchases: ps, count: n, restarts: restarts}
}

// ordersPlaced counts the stack's orders, and those Complete.
func (s *stack) ordersPlaced() (placed, complete int) {
	s.t.Helper()
	prefix := s.partner + "-%"
	return s.count("SELECT count(*) FROM orders WHERE number LIKE $1", prefix),
		s.count("SELECT count(*) FROM orders WHERE number LIKE $1 AND status = 'Complete'", prefix)
}

// buyThroughOutage is one learner's purchase: a basket with the seat, its checkout (the
// payment page asks again after a 503), the processor's payment, then its signed reply posted
// to the notification endpoint until it is accepted (CyberSource retries a notification that
// is not answered 2xx) and once by the learner's browser to the redirect endpoint.
func (s *stack) buyThroughOutage(p *purchase, sku string, answers *answerLog, notified *atomic.Int64) {
	tok := s.token(p.user, false)
	ok := answers.retry(s, "basket", http.StatusOK, func() int {
		p.basket = basketResponse{}
		return s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": sku}}}, &p.basket)
	})
	if !ok {
		return
	}
	p.number = s.orderNumber(p.basket)
	var form checkoutResponse
	ok = answers.retry(s, "checkout", http.StatusOK, func() int {
		form = checkoutResponse{}
		return s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": p.basket.ID, "payment_processor": "cybersource"}, &form)
	})
	if !ok {
		return
	}
	if !s.payAccepted(p, form.PaymentFormData) {
		return
	}
	if answers.retry(s, "notify", http.StatusOK, func() int { return s.postCallback("/payment/cybersource/notify/", p.reply) }) {
		notified.Add(1)
	}
	answers.once(s, "redirect", http.StatusSeeOther, func() int { return s.postCallback("/payment/cybersource/redirect/", p.reply) })
}

// checkoutResponse is the API's answer to POST /api/v2/checkout/.
type checkoutResponse struct {
	PaymentFormData map[string]string `json:"payment_form_data"`
}

// postCallback posts a signed reply to a callback endpoint and returns the status.
func (s *stack) postCallback(path string, reply map[string]string) int {
	form := url.Values{}
	for k, v := range reply {
		form.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(s.apiURL+path, form)
	if err != nil {
		s.t.Errorf("post %s: %v", path, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// answerLog counts the API's answers by step and status.
type answerLog struct {
	mu          sync.Mutex
	codes       map[string]map[int]int
	slowest     map[string]time.Duration // the longest a request of the step took
	unavailable atomic.Int64
}

func (a *answerLog) note(step string, code int, took time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.codes[step] == nil {
		a.codes[step] = map[int]int{}
	}
	a.codes[step][code]++
	a.slowest[step] = max(a.slowest[step], took.Round(time.Millisecond))
	if code == http.StatusServiceUnavailable {
		a.unavailable.Add(1)
	}
}

// retry sends a request until it is answered want, after a pause that doubles from 250 ms to
// 2 s while it is answered 503, for at most 2 minutes. Any other answer fails the test.
func (a *answerLog) retry(s *stack, step string, want int, send func() int) bool {
	pause := 250 * time.Millisecond
	for until := time.Now().Add(2 * time.Minute); ; {
		sent := time.Now()
		code := send()
		a.note(step, code, time.Since(sent))
		switch {
		case code == want:
			return true
		case code != http.StatusServiceUnavailable:
			s.t.Errorf("%s answered %d, want %d or 503", step, code, want)
			return false
		case time.Now().After(until):
			s.t.Errorf("%s still answered 503 after 2 minutes", step)
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 2*time.Second)
	}
}

// once notes a request sent once (the browser's redirect is not sent again): want or 503.
func (a *answerLog) once(s *stack, step string, want int, send func() int) {
	sent := time.Now()
	code := send()
	a.note(step, code, time.Since(sent))
	if code != want && code != http.StatusServiceUnavailable {
		s.t.Errorf("%s answered %d, want %d or 503", step, code, want)
	}
}

func (a *answerLog) summary() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("%v, slowest %v", a.codes, a.slowest)
}

// tallyRestart is tally, and it also counts as lost a purchase whose accepted notification was
// not recorded, and as duplicated an order beyond one per learner. It logs when the first order
// was placed after each restart.
func (s *stack) tallyRestart(run restartRun) (lost, duplicated int) {
	s.t.Helper()
	ps := run.purchases
	var paid []*purchase
	for _, p := range ps {
		if p.reply != nil {
			paid = append(paid, p)
		}
	}
	require.Len(s.t, paid, len(ps), "every learner paid")
	lost, duplicated = s.tally(ps, 2*time.Minute)
	require.Eventually(s.t, func() bool {
		return s.count("SELECT count(*) FROM checkouts WHERE order_number LIKE $1 AND NOT workflow_started", s.partner+"-%") == 0
	}, 30*time.Second, 200*time.Millisecond, "a frozen basket is left without its checkout workflow")
	for i, at := range run.restarts {
		var first *time.Time
		require.NoError(s.t, s.pool.QueryRow(context.Background(), "SELECT min(date_placed) FROM orders WHERE number LIKE $1 AND date_placed >= $2",
			s.partner+"-%", at).Scan(&first))
		if first != nil {
			s.t.Logf("restart %d: the first order after it was placed %s later", i+1, first.Sub(at).Round(time.Millisecond))
		}
	}
	for _, p := range ps {
		if s.count(`SELECT count(*) FROM payment_processor_responses WHERE processor_name = 'cybersource' AND authentic
			AND transaction_id = $1 AND order_number = $2`, p.reply["transaction_id"], p.number) == 0 {
			lost++
			s.t.Logf("lost: the notification of %s is not recorded", p.number)
		}
		duplicated += max(s.count("SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.username = $1 AND o.number LIKE $2",
			p.user, s.partner+"-%")-1, 0)
	}
	return lost, duplicated
}

// freeAddress returns a loopback TCP address that nothing listens on now.
func freeAddress(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return ln.Addr().String(), port
}

// devTemporal is a Temporal dev server of one test, on a file database that outlives a kill.
type devTemporal struct {
	t         *testing.T
	address   string
	namespace string
	args      []string
	log       string
	cmd       *exec.Cmd
}

// startDevTemporal starts a headless dev server on a free port and a file database in the
// test's temporary directory, with namespace and the checkout's search attributes.
func startDevTemporal(t *testing.T, namespace string) *devTemporal {
	t.Helper()
	bin, err := filepath.Abs("../.tools/bin/temporal")
	require.NoError(t, err)
	_, err = os.Stat(bin)
	require.NoError(t, err, "the Temporal CLI (make tools)")
	dir := t.TempDir()
	address, port := freeAddress(t)
	_, httpPort := freeAddress(t)
	_, metricsPort := freeAddress(t)
	d := &devTemporal{t: t, address: address, namespace: namespace, log: filepath.Join(dir, "temporal.log")}
	d.args = []string{bin, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--http-port", strconv.Itoa(httpPort), "--metrics-port", strconv.Itoa(metricsPort),
		"--db-filename", filepath.Join(dir, "temporal.db"), "--log-level", "warn",
		// as scripts/temporal.sh starts the tests' server
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false",
		"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
		"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
		"--dynamic-config-value", "system.enableActivityEagerExecution=true"}
	d.start()
	t.Cleanup(func() {
		if d.cmd != nil {
			_ = d.cmd.Process.Kill()
			_ = d.cmd.Wait()
		}
		if t.Failed() {
			if out, err := os.ReadFile(d.log); err == nil {
				t.Logf("Temporal dev server log (last 4 KiB):\n%s", out[max(len(out)-4096, 0):])
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: address, Logger: quietLogger{}})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, workflows.RegisterNamespace(ctx, c, namespace))
	return d
}

// start runs the server and waits until it answers.
func (d *devTemporal) start() {
	d.t.Helper()
	log, err := os.OpenFile(d.log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(d.t, err)
	defer log.Close()
	cmd := exec.Command(d.args[0], d.args[1:]...)
	cmd.Env = append(os.Environ(), "TEMPORAL_VERSION_CHECK_DISABLED=1")
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(d.t, cmd.Start())
	d.cmd = cmd
	for until := time.Now().Add(time.Minute); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := client.DialContext(ctx, client.Options{HostPort: d.address, Logger: quietLogger{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
		}
		cancel()
		if err == nil {
			return
		}
		require.True(d.t, time.Now().Before(until), "the Temporal dev server did not answer within a minute (log %s): %v", d.log, err)
		time.Sleep(200 * time.Millisecond)
	}
}

// kill kills the server with SIGKILL, as a crash would.
func (d *devTemporal) kill() {
	d.t.Helper()
	require.NoError(d.t, d.cmd.Process.Kill())
	_ = d.cmd.Wait()
	d.cmd = nil
}

// ownPostgres is a PostgreSQL cluster of one test, in a temporary directory owned by the
// postgres user (initdb refuses to run as root).
type ownPostgres struct {
	t        *testing.T
	bin      string
	dir      string
	port     int
	url      string
	asRunner []string // runuser -u postgres --, when the test runs as root
}

// startOwnPostgres creates, starts and migrates a cluster on a free port. PG_BIN names the
// directory of initdb and pg_ctl (default: Debian's, /usr/lib/postgresql/<version>/bin, 15 if
// installed, else the newest).
func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	p := &ownPostgres{t: t, bin: envOr("PG_BIN", debianPostgresBin())}
	_, err := os.Stat(filepath.Join(p.bin, "initdb"))
	require.NoError(t, err, "PostgreSQL's initdb (set PG_BIN)")
	p.dir, err = os.MkdirTemp("", "e2e-postgres-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(p.dir) })
	if os.Geteuid() == 0 {
		out, err := exec.Command("chown", "postgres:postgres", p.dir).CombinedOutput()
		require.NoError(t, err, string(out))
		p.asRunner = []string{"runuser", "-u", "postgres", "--"}
	}
	_, p.port = freeAddress(t)
	p.run("initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	p.start()
	t.Cleanup(func() {
		_ = p.pgCtl("stop", "-m", "immediate")
		if t.Failed() {
			if out, err := os.ReadFile(filepath.Join(p.dir, "postgres.log")); err == nil {
				t.Logf("PostgreSQL log (last 4 KiB):\n%s", out[max(len(out)-4096, 0):])
			}
		}
	})
	p.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/faults?sslmode=disable", p.port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, dbtest.CreateDatabase(ctx, p.url))
	pool, err := db.NewPool(ctx, p.url)
	require.NoError(t, err)
	defer pool.Close()
	_, err = db.Migrate(ctx, pool)
	require.NoError(t, err)
	return p
}

// debianPostgresBin is /usr/lib/postgresql/15/bin if it holds initdb, else the newest such
// directory installed (the CI machine's cluster is whichever version apt installed).
func debianPostgresBin() string {
	const want = "/usr/lib/postgresql/15/bin"
	if _, err := os.Stat(filepath.Join(want, "initdb")); err == nil {
		return want
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
	if len(found) == 0 {
		return want
	}
	return filepath.Dir(found[len(found)-1])
}

// pgVersion is the major version in /usr/lib/postgresql/<version>/bin/initdb.
func pgVersion(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func (p *ownPostgres) data() string { return filepath.Join(p.dir, "data") }

// run runs one of PostgreSQL's programs as the postgres user.
func (p *ownPostgres) run(program string, args ...string) {
	p.t.Helper()
	argv := append(append(append([]string{}, p.asRunner...), filepath.Join(p.bin, program)), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	require.NoError(p.t, err, "%s: %s", program, out)
}

func (p *ownPostgres) pgCtl(args ...string) error {
	argv := append(append(append([]string{}, p.asRunner...), filepath.Join(p.bin, "pg_ctl"), "-D", p.data()), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the cluster and waits until it accepts connections.
func (p *ownPostgres) start() {
	p.t.Helper()
	require.NoError(p.t, p.pgCtl("start", "-w", "-t", "60", "-l", filepath.Join(p.dir, "postgres.log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.port, p.dir)))
}

// stop stops the cluster as a crash would: pg_ctl stop -m immediate.
func (p *ownPostgres) stop() {
	p.t.Helper()
	require.NoError(p.t, p.pgCtl("stop", "-m", "immediate", "-w"))
}
