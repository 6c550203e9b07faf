// A picked picture made into an avatar (a user's or a room's): cropped to its centre square and
// scaled down to kAvatarEdge pixels, so every avatar is small and round-friendly whatever was
// picked, then uploaded.
import type { Chat } from '../chat/chat_client';
import { formatSize, uploadFile } from '../chat/media';
import { language, t } from '../i18n';

/** Pixels on each side of an uploaded avatar (shown at 80 px at most, on 2× screens too). */
export const kAvatarEdge = 256;
/** Larger files are refused before decoding (a photo straight from a camera is well under). */
export const kMaxPictureBytes = 20 * 1024 * 1024;

export class NotAPicture extends Error {
  constructor() {
    super('not a picture the browser can decode');
  }
}

/** Why `file` is refused before anything is done with it (too large), or null. */
export function pictureRefusal(file: File): string | null {
  return file.size > kMaxPictureBytes
    ? t('settings.profile.picture_too_large', { max: formatSize(kMaxPictureBytes, language.value) })
    : null;
}

/**
 * Crops `file` to its avatar square and uploads it (`prefix` names the upload); its mxc:// URI.
 * Throws NotAPicture, or what uploadFile throws.
 */
export async function uploadAvatar(
  chat: Chat,
  file: File,
  prefix: string,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<string> {
  const picture = await squareAvatar(file);
  return uploadFile(chat, picture, `${prefix}-${file.name || 'picture'}`, onProgress, signal);
}

/** The square avatar of `file` as PNG (JPEG for JPEG photos); NotAPicture when undecodable. */
export async function squareAvatar(file: Blob): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new NotAPicture();
  }
  const side = Math.min(bitmap.width, bitmap.height);
  const edge = Math.min(kAvatarEdge, side);
  const canvas = document.createElement('canvas');
  canvas.width = edge;
  canvas.height = edge;
  const context = canvas.getContext('2d');
  if (!context) throw new NotAPicture();
  const sx = (bitmap.width - side) / 2;
  const sy = (bitmap.height - side) / 2;
  context.drawImage(bitmap, sx, sy, side, side, 0, 0, edge, edge);
  bitmap.close();
  const type = file.type === 'image/jpeg' ? 'image/jpeg' : 'image/png';
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.9));
  if (!blob) throw new NotAPicture();
  return blob;
}
