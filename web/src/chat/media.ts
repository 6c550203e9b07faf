// Files in the chat: uploads to the Matrix content repository with progress, the contents of
// m.image / m.file messages, and authenticated media (Matrix v1.11, /_matrix/client/v1/media)
// turned into blob: URLs. An <img> cannot send the access token, and the page's CSP allows
// images from 'self', data: and blob: only, so every picture is fetched here first.
import type { Chat } from './chat_client';

/** What an m.image / m.file (/ m.video / m.audio) message points at. */
export interface MediaContent {
  /** mxc://server/id of the file. */
  url: string;
  name: string;
  mimetype: string;
  size: number | null;
  /** The image's size in pixels, when the sender said. */
  width: number | null;
  height: number | null;
}

export class UploadCancelled extends Error {
  constructor() {
    super('upload cancelled');
  }
}

const kMxcRe = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/;
const kFileTypes = new Set(['m.image', 'm.file', 'm.video', 'm.audio']);
// A picture is sent with a thumbnail of its own when larger than this in either direction.
const kThumbnailEdge = 800;

/** The media content of a message's content, or null when it carries no file. */
export function mediaOf(content: Record<string, unknown>): MediaContent | null {
  if (!kFileTypes.has(content.msgtype as string)) return null;
  if (typeof content.url !== 'string' || !kMxcRe.test(content.url)) return null;
  const info = (content.info && typeof content.info === 'object' ? content.info : {}) as Record<
    string,
    unknown
  >;
  const number = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
  // Spec 11.3.6 (v1.10): `filename` names the file; `body` is then a caption.
  const name =
    typeof content.filename === 'string' && content.filename
      ? content.filename
      : typeof content.body === 'string'
        ? content.body
        : '';
  return {
    url: content.url,
    name,
    mimetype: typeof info.mimetype === 'string' ? info.mimetype : '',
    size: number(info.size),
    width: number(info.w),
    height: number(info.h),
  };
}

function mxcPath(mxc: string): string | null {
  const match = kMxcRe.exec(mxc);
  return match ? `${encodeURIComponent(match[1])}/${match[2]}` : null;
}

// Blob URLs by request, kept for the page's life: the bytes at an mxc:// URI never change, and a
// timeline re-renders often.
const blobUrls = new Map<string, Promise<string>>();

async function fetchBlob(chat: Chat, path: string): Promise<Blob> {
  const response = await fetch(`${location.origin}/_matrix/client/v1/media/${path}`, {
    headers: { Authorization: `Bearer ${chat.client.getAccessToken() ?? ''}` },
  });
  if (!response.ok) throw new Error(`media ${response.status}`);
  return response.blob();
}

function cachedBlobUrl(chat: Chat, path: string): Promise<string> {
  let url = blobUrls.get(path);
  if (!url) {
    url = fetchBlob(chat, path).then((blob) => URL.createObjectURL(blob));
    // A failure is not remembered: the next render tries again.
    url.catch(() => blobUrls.delete(path));
    blobUrls.set(path, url);
  }
  return url;
}

/** A blob: URL of the server's thumbnail of `mxc` (scaled to fit width × height). */
export function thumbnailUrl(
  chat: Chat,
  mxc: string,
  width: number,
  height: number,
): Promise<string> {
  const path = mxcPath(mxc);
  if (!path) return Promise.reject(new Error('not an mxc URI'));
  return cachedBlobUrl(chat, `thumbnail/${path}?width=${width}&height=${height}&method=scale`);
}

/** A blob: URL of the whole file. */
export function downloadUrl(chat: Chat, mxc: string): Promise<string> {
  const path = mxcPath(mxc);
  if (!path) return Promise.reject(new Error('not an mxc URI'));
  return cachedBlobUrl(chat, `download/${path}`);
}

/** Saves the file under its name, through a link with `download` (the browser's own save). */
export async function saveFile(chat: Chat, media: MediaContent): Promise<void> {
  const href = await downloadUrl(chat, media.url);
  const link = document.createElement('a');
  link.href = href;
  link.download = media.name || 'download';
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * POSTs `file` to /_matrix/media/v3/upload and resolves to its mxc:// URI. XMLHttpRequest, not
 * fetch: only it reports upload progress. `onProgress` gets 0..1; aborting `signal` cancels the
 * request and rejects with UploadCancelled.
 */
export function uploadFile(
  chat: Chat,
  file: Blob,
  name: string,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new UploadCancelled());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/_matrix/media/v3/upload?filename=${encodeURIComponent(name)}`);
    xhr.setRequestHeader('Authorization', `Bearer ${chat.client.getAccessToken() ?? ''}`);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    const onAbort = () => xhr.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    xhr.onload = () => {
      signal.removeEventListener('abort', onAbort);
      const uri = (xhr.response as { content_uri?: unknown } | null)?.content_uri;
      if (xhr.status === 200 && typeof uri === 'string') {
        onProgress(1);
        resolve(uri);
      } else {
        reject(new Error(`upload ${xhr.status}`));
      }
    };
    xhr.onerror = () => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error('upload failed'));
    };
    xhr.onabort = () => reject(new UploadCancelled());
    xhr.send(file);
  });
}

/** A picture's size, or null when the browser cannot decode it. */
async function imageSize(file: Blob): Promise<ImageBitmap | null> {
  try {
    return await createImageBitmap(file);
  } catch {
    return null;
  }
}

/** A scaled-down copy of a large picture (JPEG, PNG for pictures that may be transparent). */
async function makeThumbnail(
  bitmap: ImageBitmap,
  mimetype: string,
): Promise<{ blob: Blob; width: number; height: number } | null> {
  const scale = Math.min(kThumbnailEdge / bitmap.width, kThumbnailEdge / bitmap.height);
  if (scale >= 1) return null; // small enough to be its own thumbnail
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0, width, height);
  const type = mimetype === 'image/jpeg' ? 'image/jpeg' : 'image/png';
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.85));
  return blob ? { blob, width, height } : null;
}

/**
 * Uploads `file` and returns the content of the message sharing it: m.image (with its size and,
 * for large pictures, a thumbnail) for pictures the browser can decode, m.file otherwise.
 * Progress covers the file and its thumbnail.
 */
export async function uploadContent(
  chat: Chat,
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const name = file.name || 'file';
  const mimetype = file.type || 'application/octet-stream';
  const bitmap = mimetype.startsWith('image/') ? await imageSize(file) : null;
  if (!bitmap) {
    const url = await uploadFile(chat, file, name, onProgress, signal);
    const info = { mimetype, size: file.size };
    return { msgtype: 'm.file', body: name, filename: name, url, info };
  }
  const info: Record<string, unknown> = {
    mimetype,
    size: file.size,
    w: bitmap.width,
    h: bitmap.height,
  };
  const thumbnail = await makeThumbnail(bitmap, mimetype);
  bitmap.close();
  const total = file.size + (thumbnail?.blob.size ?? 0);
  const onFile = (f: number) => onProgress((f * file.size) / total);
  const url = await uploadFile(chat, file, name, onFile, signal);
  if (thumbnail) {
    const thumbUrl = await uploadFile(
      chat,
      thumbnail.blob,
      `thumbnail-${name}`,
      (f) => onProgress((file.size + f * thumbnail.blob.size) / total),
      signal,
    );
    info.thumbnail_url = thumbUrl;
    info.thumbnail_info = {
      mimetype: thumbnail.blob.type,
      size: thumbnail.blob.size,
      w: thumbnail.width,
      h: thumbnail.height,
    };
  }
  return { msgtype: 'm.image', body: name, filename: name, url, info };
}

/** "2.4 MB", "512 bytes", in the UI's language. */
export function formatSize(bytes: number, locale: string): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: units[unit],
    unitDisplay: unit === 0 ? 'long' : 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}
