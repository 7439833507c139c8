// Helpers for the records journeys: make test files on disk (a PNG, a PDF, large
// random files), drive the records page like a person, and hash what downloads.
import { expect, type Locator, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

/** SHA-256 of bytes, hex. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of a file on disk, hex. */
export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A small RGB PNG (a teal square with a stripe), written to `path`. */
export function writePng(path: string, size = 48) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const stripe = y > size / 3 && y < (2 * size) / 3;
      row[1 + x * 3] = stripe ? 240 : 14;
      row[2 + x * 3] = stripe ? 200 : 110;
      row[3 + x * 3] = stripe ? 60 : 107;
    }
    rows.push(row);
  }
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
  writeFileSync(path, png);
}

/** A one-page PDF saying `text`, with a correct cross-reference table. */
export function writePdf(path: string, text: string) {
  const stream = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  writeFileSync(path, out, 'latin1');
}

/** `bytes` of random data with `marker` written in at several places. */
export function writeMarkedFile(path: string, bytes: number, marker: string) {
  const data = randomBytes(bytes);
  const m = Buffer.from(marker, 'utf8');
  for (const at of [0, Math.floor(bytes / 3), Math.floor(bytes / 2), bytes - m.length]) {
    m.copy(data, Math.max(0, at));
  }
  writeFileSync(path, data);
}

/** A random file of `bytes`, written in 8 MiB pieces (no whole copy in memory). */
export function writeRandomFile(path: string, bytes: number) {
  const fd = openSync(path, 'w');
  try {
    const piece = 8 * 1024 * 1024;
    for (let done = 0; done < bytes; done += piece) {
      writeSync(fd, randomBytes(Math.min(piece, bytes - done)));
    }
  } finally {
    closeSync(fd);
  }
}

/** A sparse file of `bytes` (takes no disk space: for size-limit checks). */
export function writeSparseFile(path: string, bytes: number) {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

/** Opens the records page through the header link (keeps the keys in memory). */
export async function openRecords(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Records' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Records' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Folders and files' })).toBeVisible();
}

/** The list of folders and files of the current folder. */
export function itemList(page: Page): Locator {
  return page.getByRole('list', { name: 'Folders and files' });
}

/** The action buttons of the item called `name`. */
export function actions(page: Page, name: string): Locator {
  return page.getByRole('group', { name: `Actions for ${name}`, exact: true });
}

/** Uploads files through the labelled picker and waits until each row says Uploaded. */
export async function upload(page: Page, paths: string[], names: string[]) {
  await page.getByLabel('Upload files').setInputFiles(paths);
  const uploads = page.getByRole('region', { name: 'Uploads' });
  for (const name of names) {
    const row = uploads.getByRole('listitem').filter({ hasText: name });
    await expect(row.getByText('Uploaded', { exact: true })).toBeVisible({ timeout: 120_000 });
    await expect(actions(page, name)).toBeVisible();
  }
}

/** Downloads the current version of `name` and returns the saved file's SHA-256. */
export async function downloadHash(page: Page, name: string): Promise<string> {
  const download = page.waitForEvent('download', { timeout: 120_000 });
  await actions(page, name).getByRole('button', { name: 'Download' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(name);
  return sha256File((await file.path())!);
}

/** The names of the scratch files the app keeps for large downloads in the
 * browser's private file system (`app/src/platform/spool.rs`). */
export async function scratchFiles(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    let folder: FileSystemDirectoryHandle;
    try {
      folder = await root.getDirectoryHandle('medvault-downloads');
    } catch {
      return [];
    }
    const names: string[] = [];
    const keys = (folder as unknown as { keys(): AsyncIterable<string> }).keys();
    for await (const name of keys) names.push(name);
    return names;
  });
}

/** Opens a folder of the current folder by its link. */
export async function openFolder(page: Page, name: string) {
  await itemList(page).getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

/** What the server stores of an uploaded file: its id, its version and how
 * many chunks it has. */
export type UploadedVersion = { nodeId: string; version: number; count: number };

/** Uploads one file (as {@link upload}) and reads what was stored from the
 * request that completed it: a `records/batch` for a small file (its content
 * travels in the batch, docs/PROTOCOL.md 16.11), else `records/upload/finish`. */
export async function uploadOne(page: Page, path: string, name: string): Promise<UploadedVersion> {
  const batch = page
    .waitForRequest((r) => r.url().endsWith('/api/records/batch'), { timeout: 120_000 })
    .then((r) => {
      const file = r.postDataJSON().request.files[0];
      const m = file.manifest.value;
      return { nodeId: file.node.node_id as string, version: m.version as number, count: m.part_hashes.length as number };
    })
    .catch(() => null);
  const finish = page
    .waitForResponse((r) => r.url().endsWith('/api/records/upload/finish'), { timeout: 120_000 })
    .then(async (r) => {
      const view = await r.json();
      return {
        nodeId: view.node_id as string,
        version: view.current.version as number,
        count: view.current.manifest.value.part_hashes.length as number,
      };
    })
    .catch(() => null);
  await upload(page, [path], [name]);
  const done = await Promise.race([batch, finish].map((p) => p.then((v) => v ?? new Promise<never>(() => {}))));
  return done;
}
