// Writes .gz and .br siblings next to the compressible files of dist/, so the ruche binary can
// serve them as-is (Content-Encoding negotiation) instead of compressing on every request.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const kDist = new URL('../dist/', import.meta.url).pathname;
const kExtensions = ['.js', '.css', '.html', '.svg', '.json', '.webmanifest'];
const kMinBytes = 1024; // below one KiB the headers cost more than the compression saves

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

let count = 0;
for await (const path of walk(kDist)) {
  if (!kExtensions.some((ext) => path.endsWith(ext))) continue;
  if ((await stat(path)).size <= kMinBytes) continue;
  const data = await readFile(path);
  await writeFile(`${path}.gz`, gzipSync(data, { level: 9 }));
  await writeFile(
    `${path}.br`,
    brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
  );
  count += 1;
}
console.log(`precompress: wrote .gz and .br for ${count} file(s) in dist/`);
