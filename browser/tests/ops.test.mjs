// Operations staff find a stuck order in the Temporal Web UI (docs/operations.md): a paid order
// whose enrollment the LMS refuses ends in Fulfillment Error, its checkout in NeedsAttention; the
// search CheckoutStatus="NeedsAttention" in the workflow list finds it, and its page says why.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  addToBasket, env, eventually, launchBrowser, newLearner, payWith, seat, setLMSKnobs, shot, text, waitForText,
} from './lib.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => {
  await setLMSKnobs({ reject_courses: [] });
  await browser?.close();
});

const mitx = 'course-v1:MITx+6.002x+2026_T1';

test('a stuck order is found in the Temporal UI by CheckoutStatus and opened', async () => {
  const s = await seat(mitx, 'professional');
  // The LMS refuses enrollments in this course (a 4xx: permanent), as if the course were missing.
  await setLMSKnobs({ reject_courses: [mitx] });

  const { context, page } = await newLearner(browser);
  let number;
  try {
    await addToBasket(page, 'erin', s.sku);
    await payWith(page, 'Credit or debit card');
    await page.waitForURL(`${env.cybersource}/pay`);
    await page.click('button[value="pay"]');
    await page.waitForURL(/\/checkout\/receipt\/\?order_number=/);
    number = new URL(page.url()).searchParams.get('order_number');
    await waitForText(page, '#order-status', /^Fulfillment Error$/);
    assert.match(await text(page, 'td.line-status'), /Error/);
    assert.match(await text(page, '#fulfillment-problem'), /you do not need to pay again/);
    await shot(page, 'ops-1-receipt-fulfillment-error');
  } finally {
    await context.close();
  }

  const ops = await newLearner(browser);
  try {
    const ui = ops.page;
    await ui.goto(`${env.temporalUI}/namespaces/ecommerce/workflows`);
    // The list shows what ops need without opening a workflow: the runbook's column set (kept by
    // the browser), the checkout's state, learner, total and processor instead of the run ID,
    // type and end time.
    await ui.locator('[data-testid="workflows-summary-table-configuration-button"]').click();
    for (const column of ['Run ID', 'Type', 'End']) {
      await ui.locator(`[data-testid="orderable-list-item-${column}-remove-button"]`).dispatchEvent('click');
    }
    for (const column of ['CheckoutStatus', 'Username', 'OrderTotal', 'PaymentProcessor']) {
      await ui.locator(`[data-testid="orderable-list-item-${column}-add-button"]`).dispatchEvent('click');
    }
    await ui.locator('.drawer-portal').getByRole('button', { name: 'Close' }).first().dispatchEvent('click');
    await ui.locator('.drawer-portal h5').first().waitFor({ state: 'hidden' });
    await ui.getByRole('button', { name: 'Collapse saved views' }).click();
    // Earlier checkouts (the learner tests') are listed too; the search narrows to the stuck one.
    await ui.locator('[data-testid="toggle-manual-query"]').click();
    const query = ui.locator('[data-testid="manual-search-input"]');
    await query.fill('CheckoutStatus="NeedsAttention"');
    const row = ui.locator('a', { hasText: `checkout-${number}` });
    await eventually(async () => {
      await ui.getByRole('button', { name: 'Search', exact: true }).click();
      await row.first().waitFor({ timeout: 2_000 });
    }, { what: `checkout-${number} in the search results` });
    assert.match(decodeURIComponent(ui.url()), /query=CheckoutStatus="NeedsAttention"/);
    const links = (await ui.locator('a').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(links.filter((t) => /^checkout-EDX-\d+$/.test(t)), [`checkout-${number}`], 'only the stuck checkout is listed');
    const listed = await ui.locator('tr', { hasText: `checkout-${number}` }).first().innerText();
    assert.match(listed, /NeedsAttention/);
    assert.match(listed, /\berin\b/);
    assert.match(listed, new RegExp(String(Number(s.price))));
    assert.match(listed, /cybersource/);
    await shot(ui, 'ops-2-temporal-search');

    await row.first().click();
    await ui.waitForURL(`**/workflows/checkout-${number}/**`);
    await waitForText(ui, 'h1', new RegExp(`checkout-${number}`));
    assert.match(await text(ui, 'body'), /Running/);
    assert.match(await text(ui, 'body'), /CheckoutWorkflow/);
    await shot(ui, 'ops-3-temporal-workflow');

    // Why it is stuck: the workflow's summary and current details (User Metadata; the UI renders
    // them as markdown in frames of their own) and its status query.
    await ui.getByText('User Metadata', { exact: true }).click();
    await eventually(async () => {
      const texts = await Promise.all(ui.frames().map((f) => f.locator('body').innerText({ timeout: 1_000 }).catch(() => '')));
      const all = texts.join('\n');
      assert.match(all, /NeedsAttention: Fulfillment failed; waiting for an ops-action signal/);
      assert.match(all, new RegExp(`Checkout ${number} for erin: ${s.price} USD`));
    }, { what: 'the summary and current details' });
    await shot(ui, 'ops-4-temporal-current-details');

    await ui.getByText('Queries', { exact: true }).click();
    await ui.getByRole('button', { name: 'Run Query' }).click();
    await waitForText(ui, 'body', /"state": "NeedsAttention"/);
    const result = await text(ui, 'body');
    assert.match(result, /"order_status": "Fulfillment Error"/);
    assert.match(result, /"last_error": "client error: status 400 Bad Request: course\s+not\s+found/);
    await shot(ui, 'ops-5-temporal-status-query');
  } finally {
    await ops.context.close();
  }
});
