// A learner buys seats as they would click: from a link to /basket/add/ (the LMS's "Upgrade"
// button), through the LMS simulator's login, the basket page, a processor simulator's page, to
// the receipt. Each test is another learner in a fresh browser context; every step is a
// screenshot in docs/screenshots/ (the README's walkthrough shows them).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  addToBasket, api, env, eventually, launchBrowser, lmsEnrolled, logIn, newLearner, payWith,
  receiptComplete, seat, shot, text,
} from './lib.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const demo = 'course-v1:edX+DemoX+Demo_Course';
const cs50 = 'course-v1:HarvardX+CS50+2026';
const mitx = 'course-v1:MITx+6.002x+2026_T1';

test('buy a seat with a card at the CyberSource simulator', async () => {
  const s = await seat(demo);
  const { context, page } = await newLearner(browser);
  try {
    await addToBasket(page, 'alice', s.sku, { loginShot: 'cybersource-1-login' });
    assert.match(await text(page, '#basket-lines'), new RegExp(s.course));
    assert.equal(await text(page, '#order-total'), `${s.price} USD`);
    await shot(page, 'cybersource-2-basket');

    await payWith(page, 'Credit or debit card');
    await page.waitForURL(`${env.cybersource}/pay`);
    assert.match(await text(page, '.banner'), /CyberSource Secure Acceptance simulator/);
    assert.equal(await text(page, '#amount'), `${s.price} USD`);
    assert.match(await text(page, 'h1'), /^Order EDX-\d+$/);
    await shot(page, 'cybersource-3-payment-page');

    await page.click('button[value="pay"]');
    const number = await receiptComplete(page);
    assert.match(await text(page, 'body'), new RegExp(`${s.course}[\\s\\S]*${s.price} USD`));
    assert.match(await text(page, 'body'), /paid with Credit or debit card/);
    await shot(page, 'cybersource-4-receipt');
    assert.ok(await lmsEnrolled('alice', demo), 'the LMS simulator enrolled alice');

    // The learner's order list (the API the storefront reads) has it, Complete.
    await page.goto(`${env.base}/api/v2/orders/`);
    const orders = JSON.parse(await page.locator('body').innerText());
    assert.deepEqual(orders.results.map((o) => [o.number, o.status]), [[number, 'Complete']]);
  } finally {
    await context.close();
  }
});

test('buy a seat at the PayPal simulator', async () => {
  const s = await seat(cs50);
  const { context, page } = await newLearner(browser);
  try {
    await addToBasket(page, 'bob', s.sku);
    await page.getByLabel('PayPal').check();
    await shot(page, 'paypal-1-basket');
    await payWith(page, 'PayPal');
    await page.waitForURL(`${env.paypal}/checkoutnow?**`);
    assert.equal(await text(page, 'h1'), 'Pay with PayPal');
    assert.equal(await text(page, '#amount'), `${s.price} USD`);
    assert.match(await text(page, 'table'), new RegExp(s.sku));
    await shot(page, 'paypal-2-approval');

    await page.click('button[value="approve"]');
    await page.waitForURL(/\/checkout\/receipt\//);
    assert.ok(page.url().startsWith(env.base), 'PayPal sent the learner back to the service');
    await receiptComplete(page);
    assert.match(await text(page, 'body'), /paid with PayPal/);
    await shot(page, 'paypal-3-receipt');
    assert.ok(await lmsEnrolled('bob', cs50), 'the LMS simulator enrolled bob');
  } finally {
    await context.close();
  }
});

test('a free seat with a 100% coupon code', async () => {
  const s = await seat(mitx);
  // Staff make a one-code coupon that takes the whole price off this seat (as edX's coupon
  // admin does through the same API).
  const rec = await api('GET', `/api/v2/stockrecords/${s.sku}/`);
  assert.equal(rec.status, 200);
  const now = Date.now();
  const created = await api('POST', '/api/v2/coupons/', {
    title: 'Browser test: a free seat', category: { name: 'Affiliate' }, stock_record_ids: [rec.json.id],
    start_datetime: new Date(now - 3_600_000).toISOString(), end_datetime: new Date(now + 7 * 86_400_000).toISOString(),
    benefit_type: 'Percentage', benefit_value: '100.00', voucher_type: 'Single use', quantity: 1,
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  // A 100% code is an enrollment code: the service makes it up (edX refuses a custom one).
  const codes = await api('GET', `/api/v2/coupons/${created.json.coupon_id}/codes/`);
  assert.equal(codes.status, 200);
  const { code } = codes.json.results[0];

  const { context, page } = await newLearner(browser);
  try {
    // The code's redeem URL: log in first, then the offer page lists what the code gives.
    await page.goto(`${env.base}/coupons/offer/?code=${code}`);
    await logIn(page, 'carol');
    assert.equal(await text(page, 'h1'), `Coupon code ${code}`);
    const row = page.locator('#offer-seats tr.seat', { hasText: s.course });
    assert.match(await row.innerText(), /100%/);
    await shot(page, 'coupon-1-offer');

    await row.getByRole('button', { name: 'Add to basket' }).click();
    await page.waitForURL(`${env.base}/basket/`);
    assert.match(await text(page, '#coupon'), new RegExp(`Coupon code ${code}`));
    assert.equal(await text(page, '#summary-discounts'), `-${s.price} USD`);
    assert.equal(await text(page, '#order-total'), '0.00 USD');
    assert.equal(await page.locator('#checkout').count(), 0, 'nothing to pay: no processor to choose');
    await shot(page, 'coupon-2-basket');

    await page.getByRole('button', { name: 'Place order' }).click();
    await receiptComplete(page);
    assert.match(await text(page, 'body'), /Total: 0\.00 USD/);
    await shot(page, 'coupon-3-receipt');
    assert.ok(await lmsEnrolled('carol', mitx), 'the LMS simulator enrolled carol');
  } finally {
    await context.close();
  }

  // A single-use code is used up.
  const { context: other, page: otherPage } = await newLearner(browser);
  try {
    await otherPage.goto(`${env.base}/coupons/offer/?code=${code}`);
    await logIn(otherPage, 'dave');
    assert.notEqual(await text(otherPage, 'h1'), `Coupon code ${code}`);
  } finally {
    await other.close();
  }
});

test('a declined card, then a retry that succeeds', async () => {
  const s = await seat(cs50);
  const { context, page } = await newLearner(browser);
  try {
    await addToBasket(page, 'dave', s.sku);
    await payWith(page, 'Credit or debit card');
    await page.waitForURL(`${env.cybersource}/pay`);
    const first = (await text(page, 'h1')).replace(/^Order /, '');
    await page.click('button[value="decline"]');
    await page.waitForURL(/\/checkout\/cancel-checkout\//);
    assert.equal(await text(page, 'h1'), 'Payment declined');
    assert.match(await text(page, 'body'), /Nothing was charged; your basket has been restored/);
    assert.match(await text(page, 'body'), new RegExp(first));
    await shot(page, 'decline-1-declined');

    // The page leads back to the basket; the workflow gives the learner a new one with the
    // same seat (at once, or a moment later: then a reload shows it).
    await page.click('#back-to-basket');
    await page.waitForURL(`${env.base}/basket/`);
    await eventually(async () => {
      await page.reload();
      assert.match(await text(page, '#basket-lines'), new RegExp(s.course));
    }, { what: 'the basket to be restored' });
    assert.equal(await text(page, '#order-total'), `${s.price} USD`);
    await shot(page, 'decline-2-basket-restored');

    await payWith(page, 'Credit or debit card');
    await page.waitForURL(`${env.cybersource}/pay`);
    const second = (await text(page, 'h1')).replace(/^Order /, '');
    assert.notEqual(second, first, 'the retry is a new order number');
    await page.click('button[value="pay"]');
    const number = await receiptComplete(page);
    assert.equal(number, second);
    await shot(page, 'decline-3-receipt');
    assert.ok(await lmsEnrolled('dave', cs50), 'the LMS simulator enrolled dave');
  } finally {
    await context.close();
  }
});
