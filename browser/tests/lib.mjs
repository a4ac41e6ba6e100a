// Helpers of the browser tests: Debian's Chromium through Playwright's library, the addresses of
// the stack that scripts/test-browser.sh started, screenshots and small waits.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with make test-browser (scripts/test-browser.sh)`);
  return v.replace(/\/+$/, '');
};

export const env = {
  base: need('BASE_URL'),
  lms: need('LMS_URL'),
  cybersource: need('CYBERSOURCE_URL'),
  paypal: need('PAYPAL_URL'),
  temporalUI: need('TEMPORAL_UI_URL'),
  staffToken: need('STAFF_TOKEN'),
  screenshots: need('SCREENSHOT_DIR'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

// Without the background-networking flags Chromium calls Google's services at start-up, which the
// closed network refuses. launch() gives the browser a fresh temporary profile (user-data-dir).
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

export async function launchBrowser() {
  return chromium.launch({ executablePath: env.chromium, headless: true, args: chromiumArgs });
}

// newLearner is a fresh browser context (no cookies: nobody logged in) with a modest viewport.
export async function newLearner(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  return { context, page };
}

// shot saves what the page shows now as docs/screenshots/<name>.png.
export async function shot(page, name) {
  fs.mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: path.join(env.screenshots, `${name}.png`) });
}

// text is the trimmed text of the first element matching selector.
export async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

// eventually retries check (which throws while it is not yet true) until it passes or timeout.
export async function eventually(check, { timeout = 30_000, interval = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}: ${last?.message ?? last}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// waitForText waits until the element's text matches re (the page may reload itself meanwhile,
// as the receipt does while the order is being placed) and returns the text.
export async function waitForText(page, selector, re, opts = {}) {
  return eventually(async () => {
    const t = (await page.locator(selector).first().innerText({ timeout: 1_000 })).trim();
    assert.match(t, re);
    return t;
  }, { what: `${selector} to match ${re}`, ...opts });
}

// api calls the service's JSON API (as staff unless told otherwise).
export async function api(method, urlPath, body, token = env.staffToken) {
  const res = await fetch(env.base + urlPath, {
    method,
    headers: { Authorization: `JWT ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const textBody = await res.text();
  let json;
  try { json = JSON.parse(textBody); } catch { json = textBody; }
  return { status: res.status, json };
}

// seat finds a demo catalog seat (ecommerce dev seeds it) by course and certificate type: its SKU,
// price and the course's name.
export async function seat(courseID, certificateType = 'verified') {
  const { status, json } = await api('GET', '/api/v2/courses/?include_products=true&page_size=100');
  assert.equal(status, 200);
  const course = json.results.find((c) => c.id === courseID);
  assert.ok(course, `course ${courseID} is in the demo catalog`);
  const product = course.products.find((p) => p.attribute_values.some((a) => a.name === 'certificate_type' && a.value === certificateType));
  assert.ok(product, `${courseID} has a ${certificateType} seat`);
  return { sku: product.partner_sku, price: product.price, course: course.name, courseID };
}

// setLMSKnobs changes the LMS simulator's failure knobs (POST /__sim/knobs).
export async function setLMSKnobs(knobs) {
  const res = await fetch(env.lms + '/__sim/knobs', { method: 'POST', body: JSON.stringify(knobs), headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 200, `LMS simulator knobs ${JSON.stringify(knobs)}`);
}

// lmsEnrolled reports whether the LMS simulator holds an active enrollment of user in course.
export async function lmsEnrolled(user, courseID) {
  const res = await fetch(env.lms + '/__sim/enrollments');
  assert.equal(res.status, 200);
  const state = await res.json();
  const list = Array.isArray(state) ? state : (state.enrollments ?? []);
  return list.some((e) => (e.user ?? e.username) === user && (e.course_id ?? e.course_details?.course_id) === courseID && e.is_active !== false);
}

// buyFrom starts as a learner does, from a link to /basket/add/?sku=...: not logged in, the service
// sends the browser to the LMS's login page, which brings it back to the basket. It returns at
// the basket page; loginShot names a screenshot of the login page, if wanted.
export async function addToBasket(page, user, sku, { loginShot } = {}) {
  await page.goto(`${env.base}/basket/add/?sku=${encodeURIComponent(sku)}`);
  assert.ok(page.url().startsWith(env.lms + '/login'), `not logged in, the learner is sent to the LMS login page (at ${page.url()})`);
  assert.equal(await text(page, 'h1'), 'LMS simulator');
  if (loginShot) await shot(page, loginShot);
  await logIn(page, user);
  assert.equal(page.url(), `${env.base}/basket/`);
  assert.equal(await text(page, 'h1'), 'Your basket');
}

// logIn presses the user's button on the LMS simulator's login page (a development user of its
// list, else the typed username).
export async function logIn(page, user) {
  const button = page.locator('button[name="username"]', { hasText: `(${user})` });
  if (await button.count()) {
    await Promise.all([page.waitForURL((u) => !u.href.startsWith(env.lms + '/login')), button.first().click()]);
  } else {
    await page.fill('input[name="username"]', user);
    await Promise.all([page.waitForURL((u) => !u.href.startsWith(env.lms + '/login')), page.click('button:text-is("Sign in")')]);
  }
}

// payWith chooses the processor on the basket page (its label) and presses Pay.
export async function payWith(page, label) {
  await page.getByLabel(label).check();
  const pay = page.locator('#checkout button[type="submit"]');
  assert.match(await pay.innerText(), /^Pay \d+\.\d\d USD$/);
  await pay.click();
}

// receiptComplete waits on the receipt page (it reloads itself until the order is placed and
// fulfilled) until the order and every line are Complete, and returns the order number.
export async function receiptComplete(page) {
  await page.waitForURL(/\/checkout\/receipt\/\?order_number=/);
  const number = new URL(page.url()).searchParams.get('order_number');
  await waitForText(page, '#order-status', /^Complete$/);
  assert.equal(await text(page, 'h1'), 'Thank you for your order');
  const lines = await page.locator('td.line-status').allInnerTexts();
  assert.ok(lines.length > 0, 'the receipt lists the order lines');
  for (const l of lines) assert.equal(l.trim(), 'Complete');
  assert.match(await page.locator('body').innerText(), new RegExp(`Order number: ${number}`));
  return number;
}
