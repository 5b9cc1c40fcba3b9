// The chat page in a real browser: Debian's Chromium, headless, driven by
// puppeteer-core (which never downloads a browser). Two browser contexts are
// two users on a page served from another origin than chatd's, so every call
// crosses origins through chatd's CORS. A photo goes from one page to the
// other through the file input. Screenshots of the chat are kept in
// var/artifacts/.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import puppeteer from "puppeteer-core";

import { ChatdRest } from "@chatd/client";

import { Chatd, createDatabase, freePort, haveServer, pngBytes } from "../../js/dist/test/harness.js";
import { serve } from "../serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.CHATD_ARTIFACTS ?? join(here, "../../../var/artifacts");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const skip = haveServer();

async function signUp(page, url, name) {
  await page.goto(url);
  await page.waitForSelector("#auth:not([hidden])");
  await page.type("#auth-username", name);
  await page.type("#auth-password", `password-${name}`);
  await page.click("#sign-up");
  await page.waitForSelector("#chat:not([hidden])");
  await live(page);
}

const live = (page) => page.waitForFunction(() => document.querySelector("#chat")?.dataset.state === "live", { timeout: 15_000 });

const convItem = (page, title) =>
  page.waitForFunction((t) => [...document.querySelectorAll("li.conv")].find((li) => li.dataset.title === t), { timeout: 15_000 }, title);

const textIn = (page, selector, text) =>
  page.waitForFunction(
    (s, t) => [...document.querySelectorAll(s)].some((n) => n.textContent.includes(t)),
    { timeout: 15_000 },
    selector,
    text,
  );

const exactText = (page, selector, text) =>
  page.waitForFunction(
    (s, t) => [...document.querySelectorAll(s)].some((n) => n.textContent === t),
    { timeout: 15_000 },
    selector,
    text,
  );

// A DOM click on the conversation as it is now (the list updates live).
const openConv = (page, title) =>
  page.evaluate((t) => [...document.querySelectorAll("li.conv")].find((li) => li.dataset.title === t).click(), title);

async function send(page, text) {
  await page.type("#composer-input", text);
  await page.keyboard.press("Enter");
}

// Picks a file in the composer, as a person does through the file chooser.
async function pickFile(page, path) {
  const input = await page.$("#composer-file");
  await input.uploadFile(path);
  await page.waitForSelector("#composer-attachment:not([hidden])");
}

// Every photo in the messages that match `selector` has loaded (decoded, with a width), and there are `count`.
const photosShown = (page, selector, count) =>
  page.waitForFunction(
    (s, n) => {
      const imgs = [...document.querySelectorAll(s)];
      return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth > 0);
    },
    { timeout: 15_000 },
    selector,
    count,
  );

describe("the chat page in Chromium", { skip, timeout: 180_000 }, () => {
  let chatd, web, browser, url;

  before(async () => {
    const webPort = await freePort();
    web = await serve(webPort);
    chatd = new Chatd(createDatabase(), await freePort(), ["--cors-origins", `http://127.0.0.1:${webPort}`]);
    await chatd.start();
    url = `http://127.0.0.1:${webPort}/?api=${encodeURIComponent(chatd.baseUrl)}`;
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      // No sandbox (tests run as root); nothing that reaches for the network
      // (the machine's network is closed: Chromium's own connections only fail).
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  after(async () => {
    await browser?.close();
    await chatd?.stop();
    web?.close();
  });

  it("two people chat: unread counts, typing, read receipts, presence, catch-up, reconnect", async () => {
    const alice = await (await browser.createBrowserContext()).newPage();
    const bobContext = await browser.createBrowserContext();
    let bob = await bobContext.newPage();
    await alice.setViewport({ width: 1100, height: 700 });
    const errors = [];
    for (const p of [alice, bob]) p.on("pageerror", (e) => errors.push(String(e)));

    await signUp(alice, url, "alice_web");
    await signUp(bob, url, "bob_web");

    // Alice opens a direct conversation by username and writes.
    await alice.type("#direct-username", "bob_web");
    await alice.click("#new-direct button");
    await convItem(alice, "bob_web");
    await send(alice, "Hi Bob! 👋");
    await textIn(alice, ".msg.mine .info", "Sent");

    // Bob's list shows it live, with its unread count.
    await convItem(bob, "alice_web");
    await bob.waitForFunction(
      () => {
        const li = [...document.querySelectorAll("li.conv")].find((l) => l.dataset.title === "alice_web");
        return li?.querySelector(".badge")?.textContent === "1" && li.querySelector(".preview")?.textContent === "Hi Bob! 👋";
      },
      { timeout: 15_000 },
    );

    // Bob opens it: the message is there, and Alice sees it was read.
    await openConv(bob, "alice_web");
    await textIn(bob, ".msg.theirs .bubble", "Hi Bob! 👋");
    await textIn(alice, ".msg.mine .receipt", "Seen");
    await bob.waitForFunction(() => !document.querySelector('li.conv[data-title="alice_web"] .badge'), { timeout: 15_000 });

    // Bob types; Alice sees it. Bob answers.
    await bob.type("#composer-input", "typing");
    await textIn(alice, "#typing", "bob_web is typing");
    await bob.keyboard.press("Enter");
    await textIn(alice, ".msg.theirs .bubble", "typing");

    // Bob goes away (his page closes); Alice sees him offline, writes three messages.
    await bob.close();
    await alice.waitForFunction(() => document.querySelector("#thread-status")?.textContent === "Offline", { timeout: 30_000 });
    for (const n of [1, 2, 3]) await send(alice, `while you were away ${n}`);
    await textIn(alice, ".msg.mine .bubble", "while you were away 3");
    await alice.waitForFunction(() => !document.querySelector(".msg.pending"), { timeout: 15_000 });

    // He comes back (same browser profile: his session and cursors are kept) and catches up.
    bob = await bobContext.newPage();
    bob.on("pageerror", (e) => errors.push(String(e)));
    await bob.goto(url);
    await bob.waitForSelector("#chat:not([hidden])");
    await live(bob);
    await alice.waitForFunction(() => document.querySelector("#thread-status")?.textContent === "Online", { timeout: 30_000 });
    await bob.waitForFunction(
      () => document.querySelector('li.conv[data-title="alice_web"] .badge')?.textContent === "3",
      { timeout: 15_000 },
    );
    await openConv(bob, "alice_web");
    await textIn(bob, ".msg.theirs .bubble", "while you were away 3");
    const bodies = await bob.$$eval(".msg .bubble", (ns) => ns.map((n) => n.textContent));
    assert.deepEqual(bodies, ["Hi Bob! 👋", "typing", "while you were away 1", "while you were away 2", "while you were away 3"]);

    // chatd restarts: both pages say so, reconnect by themselves and go on.
    await chatd.kill();
    await alice.waitForSelector("#banner:not([hidden])", { timeout: 15_000 });
    const banner = await alice.$eval("#banner", (n) => n.textContent);
    assert.match(banner, /Reconnecting|Catching up/);
    await chatd.start();
    await alice.waitForSelector("#banner[hidden]", { timeout: 30_000 });
    await live(bob);
    await send(bob, "back again");
    await textIn(alice, ".msg.theirs .bubble", "back again");
    const aliceBodies = await alice.$$eval(".msg .bubble", (ns) => ns.map((n) => n.textContent));
    assert.equal(aliceBodies.filter((b) => b === "back again").length, 1, "shown once");

    // A group, from Alice's side.
    await alice.type("#group-title", "Weekend plans");
    await alice.type("#group-members", "bob_web");
    await alice.click("#new-group button");
    await convItem(alice, "Weekend plans");
    await convItem(bob, "Weekend plans");

    // A long history pages back: the newest 30 first, older ones on demand.
    const rest = new ChatdRest({ baseUrl: chatd.baseUrl });
    await rest.login("alice_web", "password-alice_web");
    const group = (await rest.conversations()).conversations.find((c) => c.title === "Weekend plans");
    for (let i = 1; i <= 40; i++) await rest.send(group.id, `plan-${i}`, `plan ${i}`);
    await openConv(bob, "Weekend plans");
    await exactText(bob, ".msg.theirs .bubble", "plan 40");
    await bob.waitForSelector("#load-older:not([hidden])");
    assert.equal((await bob.$$(".msg")).length, 30);
    await bob.click("#load-older");
    await exactText(bob, ".msg.theirs .bubble", "plan 1");
    const plans = await bob.$$eval(".msg .bubble", (ns) => ns.map((n) => n.textContent));
    assert.deepEqual(plans, Array.from({ length: 40 }, (_, i) => `plan ${i + 1}`));
    assert.equal(await bob.$eval("#load-older", (b) => b.hidden), true);

    await openConv(alice, "bob_web");
    await textIn(alice, ".msg.theirs .bubble", "back again");
    mkdirSync(artifacts, { recursive: true });
    await alice.screenshot({ path: join(artifacts, "web-chat.png") });
    assert.deepEqual(errors, [], "no script errors on either page");
  });

  it("sends a photo: the other page shows it, fetched with the token into a blob: URL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chatd-web-"));
    const photo = join(dir, "cat.png");
    writeFileSync(photo, pngBytes(2, 2));
    const fake = join(dir, "fake.png");
    writeFileSync(fake, "<svg xmlns='http://www.w3.org/2000/svg'/> is not a PNG");

    const alice = await (await browser.createBrowserContext()).newPage();
    const bob = await (await browser.createBrowserContext()).newPage();
    await bob.setViewport({ width: 1100, height: 700 });
    const errors = [];
    for (const p of [alice, bob]) p.on("pageerror", (e) => errors.push(String(e)));
    await signUp(alice, url, "alice_pic");
    await signUp(bob, url, "bob_pic");
    await alice.type("#direct-username", "bob_pic");
    await alice.click("#new-direct button");
    await convItem(alice, "bob_pic");
    await send(alice, "a photo is coming");
    await convItem(bob, "alice_pic");
    await openConv(bob, "alice_pic");
    await textIn(bob, ".msg.theirs .bubble", "a photo is coming");

    // Alice picks a photo, adds a caption, sends: Bob's open conversation shows it live.
    await pickFile(alice, photo);
    assert.equal(await alice.$eval("#composer-file-name", (n) => n.textContent), "cat.png");
    await send(alice, "our cat");
    await photosShown(bob, ".msg.theirs img.photo", 1);
    const shown = await bob.$eval(".msg.theirs img.photo", (img) => ({ src: img.src, w: img.naturalWidth, h: img.naturalHeight }));
    assert.match(shown.src, /^blob:/, "downloaded with the bearer token, shown from memory");
    assert.deepEqual([shown.w, shown.h], [2, 2]);
    await textIn(bob, ".msg.theirs .bubble", "our cat");
    await alice.waitForFunction(() => !document.querySelector(".msg.pending"), { timeout: 15_000 });
    await photosShown(alice, ".msg.mine img.photo", 1);
    assert.equal(await alice.$eval("#composer-attachment", (n) => n.hidden), true, "the composer is cleared");

    // A photo with no text; then Bob reloads and sees both from history.
    await pickFile(alice, photo);
    await alice.click("#composer button[type=submit]");
    await photosShown(bob, ".msg.theirs img.photo", 2);
    const shapes = await bob.$$eval(".msg.theirs", (ns) => ns.map((n) => [n.querySelector("img.photo") !== null, n.querySelector(".bubble")?.textContent ?? null]));
    assert.deepEqual(shapes, [[false, "a photo is coming"], [true, "our cat"], [true, null]]);
    await bob.reload();
    await bob.waitForSelector("#chat:not([hidden])");
    await live(bob);
    await bob.waitForFunction(
      () => document.querySelector('li.conv[data-title="alice_pic"] .preview')?.textContent === "Photo",
      { timeout: 15_000 },
    );
    await openConv(bob, "alice_pic");
    await photosShown(bob, ".msg.theirs img.photo", 2);

    // Bytes that are not what the name says: chatd refuses them and the page says so.
    await pickFile(alice, fake);
    await alice.click("#composer button[type=submit]");
    await textIn(alice, ".msg.pending .info", "Not sent");

    mkdirSync(artifacts, { recursive: true });
    await bob.screenshot({ path: join(artifacts, "web-photo.png") });
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(errors, [], "no script errors on either page");
  });
});
