// Patient records end to end: the real app in Chromium against the real server.
// Files are made on disk in each test's own output folder, uploaded through the
// picker like a person would, downloaded again and compared byte for byte; the
// server's data directory is read afterwards to prove it holds no plaintext.
import { writeFileSync } from 'node:fs';
import { test, expect } from '../fixtures/app';
import { dataFiles, signIn, signOut, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import {
  actions,
  downloadHash,
  itemList,
  openFolder,
  openRecords,
  scratchFiles,
  sha256File,
  upload,
  writeMarkedFile,
  writePdf,
  writePng,
  writeRandomFile,
  writeSparseFile,
} from '../helpers/records';

test.setTimeout(600_000);

const TAMPERED =
  'This file was changed outside medvault and cannot be trusted. Restore an earlier version, or ask your administrator.';

test('upload, sign in again, download the same bytes; a too large file is refused; nothing readable on disk', async ({
  page,
  problems,
}, info) => {
  const username = uniqueName('patient');
  const password = strongPassword('records');
  await signUp(page, username, password);
  await openRecords(page);
  // A new record starts with its folders.
  for (const folder of ['Lab results', 'Prescriptions', 'Imaging', 'Notes', 'Vital signs']) {
    await expect(itemList(page).getByRole('link', { name: folder, exact: true })).toBeVisible();
  }

  // A file of three chunks with a marker nobody else uses, under a unique name.
  const marker = `MARKER-${uniqueName('ferritin')}-${Date.now()}`;
  const name = `${uniqueName('bloodwork')}.bin`;
  const path = info.outputPath(name);
  writeMarkedFile(path, 2_500_000, marker);
  await upload(page, [path], [name]);
  await expect(itemList(page).getByRole('listitem').filter({ hasText: name })).toContainText('2.4 MB');

  // A reload locks the keys: sign in again, come back, download, compare.
  await page.reload();
  await signIn(page, username, password);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
  await openRecords(page);
  expect(await downloadHash(page, name)).toBe(sha256File(path));
  await expect(page.getByRole('status').filter({ hasText: 'was verified and saved' })).toBeVisible();

  // Bigger than the server's limit (2 GiB by default): refused in the browser,
  // before any request about it is made.
  const huge = info.outputPath('whole-body-scan.dcm');
  writeSparseFile(huge, 2 * 1024 * 1024 * 1024 + 1);
  const sent: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/records/upload') || r.url().includes('/api/records/chunk')) sent.push(r.url());
  });
  await page.getByLabel('Upload files').setInputFiles(huge);
  const refused = page.getByRole('region', { name: 'Uploads' }).getByRole('alert');
  await expect(refused).toContainText('“whole-body-scan.dcm” is 2 GB, larger than the 2 GB limit for one file.');
  await expect(refused).toContainText('Nothing was sent.');
  expect(sent).toEqual([]);
  await expect(actions(page, 'whole-body-scan.dcm')).toHaveCount(0);

  // The server's files hold neither the marker from the content nor the name.
  const files = dataFiles();
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    expect(f.bytes.includes(Buffer.from(marker)), `marker in ${f.path}`).toBe(false);
    expect(f.bytes.includes(Buffer.from(name)), `file name in ${f.path}`).toBe(false);
    expect(f.bytes.includes(Buffer.from('bloodwork')), `name part in ${f.path}`).toBe(false);
  }
});

test('a 100 MiB file uploads with a moving progress bar and downloads intact', async ({ page, problems }, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('big'));
  await openRecords(page);
  const name = 'ct-scan-series.bin';
  const path = info.outputPath(name);
  writeRandomFile(path, 100 * 1024 * 1024);

  // Record every value the progress bar takes, as the page changes it.
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { __progress: number[] }).__progress = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('[role=progressbar][aria-label^="Uploading"]');
      const v = bar?.getAttribute('aria-valuenow');
      if (v != null && seen[seen.length - 1] !== Number(v)) seen.push(Number(v));
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByLabel('Upload files').setInputFiles(path);
  const row = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: name });
  const bar = row.getByRole('progressbar', { name: `Uploading ${name}` });
  await expect(bar).toBeVisible();
  await expect(bar).toHaveAttribute('aria-valuemin', '0');
  await expect(bar).toHaveAttribute('aria-valuemax', '100');
  await expect(row.getByText(/MB\/s/)).toBeVisible({ timeout: 120_000 });
  await expect(row.getByText('Uploaded', { exact: true })).toBeVisible({ timeout: 300_000 });
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  const seen = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
  const between = seen.filter((v) => v > 0 && v < 100);
  expect(between.length, `progress values seen: ${seen.join(',')}`).toBeGreaterThan(2);
  expect([...between].sort((a, b) => a - b)).toEqual(between);
  // Completion is announced for screen readers.
  await expect(page.getByText(`“${name}” uploaded and encrypted.`)).toBeAttached();
  // It shows in the folder without a reload, and comes back byte for byte.
  await expect(actions(page, name)).toBeVisible();
  expect(await downloadHash(page, name)).toBe(sha256File(path));
  // A file this large was gathered on disk, in the browser's private storage,
  // not in one Blob in memory (which Chromium cancels beyond a few hundred MB).
  expect(await scratchFiles(page)).toHaveLength(1);

  // A chunk changed on the way: refused, and its scratch file is gone at once.
  await page.route(/\/api\/records\/chunk\/[^/]+\/\d+\/90$/, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[body.length - 20] ^= 1;
    await route.fulfill({ response, body });
  });
  let saved = false;
  page.on('download', () => (saved = true));
  await actions(page, name).getByRole('button', { name: 'Download' }).click();
  await expect(page.getByRole('alert').filter({ hasText: TAMPERED })).toBeVisible({ timeout: 120_000 });
  expect(saved).toBe(false);
  expect(await scratchFiles(page)).toHaveLength(1);

  // Signing out removes the decrypted copy the browser kept for the download.
  await signOut(page);
  await expect.poll(() => scratchFiles(page)).toEqual([]);
});

test('preview an image and a PDF in a dialog; closing returns focus', async ({ page, problems }, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('preview'));
  await openRecords(page);
  await openFolder(page, 'Imaging');
  const png = info.outputPath('knee-xray.png');
  writePng(png);
  const pdf = info.outputPath('discharge-letter.pdf');
  writePdf(pdf, 'Discharge letter');
  await upload(page, [png, pdf], ['knee-xray.png', 'discharge-letter.pdf']);

  const previewButton = actions(page, 'knee-xray.png').getByRole('button', { name: 'Preview' });
  await previewButton.click();
  const dialog = page.getByRole('dialog', { name: 'knee-xray.png' });
  await expect(dialog).toBeVisible();
  const img = dialog.getByRole('img', { name: 'Preview of knee-xray.png' });
  await expect(img).toBeVisible();
  await expect(img).toHaveAttribute('src', /^blob:/);
  // The image really decoded (48 px wide).
  expect(await img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(48);
  const url = await img.getAttribute('src');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  await expect(previewButton).toBeFocused();
  // The object URL was revoked when the preview closed: it no longer loads.
  const stillThere = await page.evaluate(
    (u) =>
      new Promise<boolean>((done) => {
        const probe = new Image();
        probe.onload = () => done(true);
        probe.onerror = () => done(false);
        probe.src = u!;
      }),
    url,
  );
  expect(stillThere).toBe(false);
  // The browser logs that failed load; it is the point of the probe.
  const probeLine = problems.console.indexOf('Failed to load resource: net::ERR_FILE_NOT_FOUND');
  expect(probeLine).toBeGreaterThanOrEqual(0);
  problems.console.splice(probeLine, 1);

  await actions(page, 'discharge-letter.pdf').getByRole('button', { name: 'Preview' }).click();
  const pdfDialog = page.getByRole('dialog', { name: 'discharge-letter.pdf' });
  await expect(pdfDialog).toBeVisible();
  // The PDF shows in the page, in the browser's own viewer, framed from a blob: URL.
  const frame = pdfDialog.getByTitle('PDF preview of discharge-letter.pdf');
  await expect(frame).toBeVisible();
  await expect(frame).toHaveAttribute('src', /^blob:/);
  const src = await frame.getAttribute('src');
  await expect.poll(() => page.frames().some((f) => f.url() === src)).toBe(true);
  // Chromium's PDF viewer (an internal extension) loaded inside that frame.
  await expect.poll(() => page.frames().some((f) => f.url().startsWith('chrome-extension://'))).toBe(true);
  // The policy let it load: no violation reached the console (the fixture
  // fails the test on any), and the box really has the viewer's size.
  const box = await frame.boundingBox();
  expect(box!.height).toBeGreaterThan(300);
  // A larger view opens in a tab of its own.
  const popup = page.waitForEvent('popup');
  await pdfDialog.getByRole('link', { name: 'Open discharge-letter.pdf in a new tab' }).click();
  const viewer = await popup;
  expect(viewer.url()).toMatch(/^blob:/);
  await viewer.close();
  // Escape closes it too, and focus goes back.
  await page.keyboard.press('Escape');
  await expect(pdfDialog).toBeHidden();
  await expect(actions(page, 'discharge-letter.pdf').getByRole('button', { name: 'Preview' })).toBeFocused();
});

test('a note: write, edit in place as a new version, see who and when, restore the first', async ({
  page,
  problems,
}, info) => {
  const username = uniqueName('patient');
  await signUp(page, username, strongPassword('notes'));
  await openRecords(page);
  await openFolder(page, 'Notes');

  // An empty title is refused in the browser with the contract's sentence.
  await page.getByRole('button', { name: 'New note' }).click();
  const noteDialog = page.getByRole('dialog', { name: 'New note' });
  await noteDialog.getByLabel('Note').fill('Slept badly.');
  await noteDialog.getByRole('button', { name: 'Save note' }).click();
  await expect(noteDialog.getByRole('alert')).toHaveText('Enter a name.');
  await noteDialog.getByLabel('Title').fill('Sleep diary');
  await noteDialog.getByRole('button', { name: 'Save note' }).click();
  await expect(noteDialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'Note “Sleep diary.txt” saved.' })).toBeVisible();

  // Edit in place: the text comes back decrypted, the save is version 2.
  await actions(page, 'Sleep diary.txt').getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit “Sleep diary.txt”' });
  await expect(edit.getByLabel('Note')).toHaveValue('Slept badly.');
  await edit.getByLabel('Note').fill('Slept badly.\nBetter after the new pillow.');
  await edit.getByRole('button', { name: 'Save new version' }).click();
  await expect(edit).toBeHidden();

  await actions(page, 'Sleep diary.txt').getByRole('button', { name: 'Versions' }).click();
  const versions = page.getByRole('dialog', { name: 'Versions of “Sleep diary.txt”' });
  const rows = versions.getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText('Version 2');
  await expect(rows.nth(1)).toContainText('Current');
  await expect(rows.nth(1)).toContainText(username);
  await expect(rows.nth(2)).toContainText('Version 1');
  await versions.getByRole('button', { name: 'Restore version 1' }).click();
  await expect(versions.getByRole('status')).toHaveText('Version 1 is the current version again.');
  await versions.getByRole('button', { name: 'Close' }).click();
  await expect(versions).toBeHidden();

  await actions(page, 'Sleep diary.txt').getByRole('button', { name: 'Preview' }).click();
  const preview = page.getByRole('dialog', { name: 'Sleep diary.txt' });
  await expect(preview.getByLabel('Text of Sleep diary.txt')).toHaveText('Slept badly.');
  await preview.getByRole('button', { name: 'Close' }).click();

  // A new version of a file through the Versions dialog's picker.
  const v1 = info.outputPath('allergies.txt');
  writeFileSync(v1, 'Penicillin\n');
  await upload(page, [v1], ['allergies.txt']);
  const v2 = info.outputPath('allergies-v2.txt');
  writeFileSync(v2, 'Penicillin\nLatex\n');
  await actions(page, 'allergies.txt').getByRole('button', { name: 'Versions' }).click();
  const fileVersions = page.getByRole('dialog', { name: 'Versions of “allergies.txt”' });
  await fileVersions.getByLabel('Upload new version').setInputFiles(v2);
  await expect(fileVersions).toBeHidden();
  const row = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: 'allergies-v2.txt' });
  await expect(row.getByText('Uploaded', { exact: true })).toBeVisible();
  // The file keeps its name; its content is the new version.
  expect(await downloadHash(page, 'allergies.txt')).toBe(sha256File(v2));
});

test('rename, move, delete, restore from the trash, empty the trash', async ({ page, problems }, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('trash'));
  await openRecords(page);
  const a = info.outputPath('scan-a.png');
  writePng(a, 16);
  const b = info.outputPath('old-prescription.txt');
  writeFileSync(b, 'Amoxicillin 500 mg\n');
  await upload(page, [a, b], ['scan-a.png', 'old-prescription.txt']);

  // Rename: a blank name is refused in the browser; a good one sticks.
  await actions(page, 'scan-a.png').getByRole('button', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename “scan-a.png”' });
  await rename.getByLabel('New name').fill('   ');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(rename.getByRole('alert')).toHaveText('Enter a name.');
  await rename.getByLabel('New name').fill('x'.repeat(256));
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(rename.getByRole('alert')).toHaveText('The name is too long: at most 255 characters.');
  await rename.getByLabel('New name').fill('Knee MRI.png');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(rename).toBeHidden();
  await expect(actions(page, 'Knee MRI.png')).toBeVisible();
  await expect(actions(page, 'scan-a.png')).toHaveCount(0);
  await expect(actions(page, 'Knee MRI.png').getByRole('button', { name: 'Rename' })).toBeFocused();

  // Move into Imaging: gone from here, there in Imaging, still opens.
  await actions(page, 'Knee MRI.png').getByRole('button', { name: 'Move' }).click();
  const move = page.getByRole('dialog', { name: 'Move “Knee MRI.png”' });
  await move.getByLabel('Move to folder').selectOption({ label: 'My record / Imaging' });
  await move.getByRole('button', { name: 'Move' }).click();
  await expect(move).toBeHidden();
  await expect(actions(page, 'Knee MRI.png')).toHaveCount(0);
  await openFolder(page, 'Imaging');
  await expect(actions(page, 'Knee MRI.png')).toBeVisible();
  expect(await downloadHash(page, 'Knee MRI.png')).toBe(sha256File(a));

  // Delete: to the trash, then restore it from there.
  await actions(page, 'Knee MRI.png').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'was moved to the trash' })).toBeVisible();
  await expect(actions(page, 'Knee MRI.png')).toHaveCount(0);
  await page.getByRole('link', { name: /^Trash/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Trash' })).toBeVisible();
  const trash = page.getByRole('list', { name: 'Items in the trash' });
  await expect(trash.getByText('Knee MRI.png')).toBeVisible();
  await trash.getByRole('button', { name: 'Restore Knee MRI.png' }).click();
  await expect(page.getByRole('status').filter({ hasText: '“Knee MRI.png” was restored.' })).toBeVisible();
  await expect(page.getByText('The trash is empty.', { exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'My record' }).click();
  await openFolder(page, 'Imaging');
  await expect(actions(page, 'Knee MRI.png')).toBeVisible();

  // Delete the other file and empty the trash, after saying yes.
  await page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My record' }).click();
  await actions(page, 'old-prescription.txt').getByRole('button', { name: 'Delete' }).click();
  await expect(actions(page, 'old-prescription.txt')).toHaveCount(0);
  await page.getByRole('link', { name: 'Trash (1)' }).click();
  await page.getByRole('button', { name: 'Empty trash' }).click();
  const confirm = page.getByRole('dialog', { name: 'Empty the trash?' });
  await expect(confirm).toContainText('cannot be undone');
  await confirm.getByRole('button', { name: 'Keep them' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByRole('list', { name: 'Items in the trash' }).getByText('old-prescription.txt')).toBeVisible();
  await page.getByRole('button', { name: 'Empty trash' }).click();
  await confirm.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByText('The trash is empty.', { exact: true })).toBeVisible();
  expect(problems.http4xx).toEqual([]);
});

test('a dropped connection retries the chunk, a refusal stops with its reason, cancel keeps nothing, drag and drop works', async ({
  page,
  problems,
}, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('network'));
  await openRecords(page);

  // The second chunk's first try dies on the network: only that chunk is sent again.
  const puts: string[] = [];
  let dropped = false;
  await page.route('**/api/records/chunk/**', async (route) => {
    const req = route.request();
    if (req.method() !== 'PUT') return route.continue();
    const index = req.url().split('/').pop()!;
    puts.push(index);
    if (index === '1' && !dropped) {
      dropped = true;
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  const flaky = info.outputPath('flaky-connection.bin');
  writeRandomFile(flaky, 2_500_000);
  await upload(page, [flaky], ['flaky-connection.bin']);
  // Several chunks are in flight at once, so only the counts are fixed.
  expect([...puts].sort()).toEqual(['0', '1', '1', '2']);
  expect(await downloadHash(page, 'flaky-connection.bin')).toBe(sha256File(flaky));
  // Chromium logs the aborted request; it is the point of this step.
  const reset = problems.console.findIndex((l) => l.includes('net::ERR_CONNECTION_RESET'));
  if (reset >= 0) problems.console.splice(reset, 1);

  // A 4xx is not retried: the upload stops with the server's sentence.
  await page.unroute('**/api/records/chunk/**');
  let refusedPuts = 0;
  await page.route('**/api/records/chunk/**', async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    refusedPuts++;
    return route.fulfill({
      status: 409,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'conflict', message: 'This upload was cancelled or has expired. Start it again.' }),
    });
  });
  const refusedFile = info.outputPath('refused.bin');
  // Over 64 KiB, so it goes one by one with chunk PUTs (smaller files go in a
  // records/batch with their content, docs/PROTOCOL.md 16.11).
  writeRandomFile(refusedFile, 100_000);
  const cancelled = page.waitForResponse((r) => r.url().endsWith('/api/records/upload/cancel'));
  await page.getByLabel('Upload files').setInputFiles(refusedFile);
  const refusedRow = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: 'refused.bin' });
  await expect(refusedRow.getByRole('alert')).toHaveText('This upload was cancelled or has expired. Start it again.');
  expect(refusedPuts).toBe(1);
  expect((await cancelled).status()).toBe(200);
  await expect(actions(page, 'refused.bin')).toHaveCount(0);
  await page.unroute('**/api/records/chunk/**');
  problems.http4xx.length = 0;

  // Cancel while it runs: nothing is kept, and the server is told. (Each
  // chunk is held back a little, so that the upload, several chunks at once,
  // is still running when the click lands.)
  await page.route('**/api/records/chunk/**', async (route) => {
    if (route.request().method() === 'PUT') await new Promise((r) => setTimeout(r, 300));
    return route.continue().catch(() => {});
  });
  const large = info.outputPath('large-scan.bin');
  writeRandomFile(large, 40 * 1024 * 1024);
  const cancelCall = page.waitForResponse((r) => r.url().endsWith('/api/records/upload/cancel'));
  await page.getByLabel('Upload files').setInputFiles(large);
  const row = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: 'large-scan.bin' });
  await expect(row.getByRole('progressbar', { name: 'Uploading large-scan.bin' })).toBeVisible();
  await row.getByRole('button', { name: 'Cancel upload of large-scan.bin' }).click();
  await expect(row.getByText('Cancelled. Nothing was kept.')).toBeVisible();
  expect((await cancelCall).status()).toBe(200);
  await expect(actions(page, 'large-scan.bin')).toHaveCount(0);
  await page.unroute('**/api/records/chunk/**');
  // Every request in flight is aborted; Chromium logs each.
  problems.console.splice(0, problems.console.length, ...problems.console.filter((l) => !l.includes('net::ERR_')));

  // Drag and drop onto the drop zone.
  const transfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped in'], 'dropped-letter.txt', { type: 'text/plain' }));
    return dt;
  });
  const zone = page.getByRole('button', { name: /Drop files here/ });
  await zone.dispatchEvent('dragenter', { dataTransfer: transfer });
  await zone.dispatchEvent('drop', { dataTransfer: transfer });
  await expect(
    page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: 'dropped-letter.txt' }).getByText('Uploaded'),
  ).toBeVisible();
  await expect(actions(page, 'dropped-letter.txt')).toBeVisible();
  // The drop zone is reachable by keyboard and opens the file picker.
  const chooser = page.waitForEvent('filechooser');
  await zone.focus();
  await page.keyboard.press('Enter');
  expect((await chooser).isMultiple()).toBe(true);
});
