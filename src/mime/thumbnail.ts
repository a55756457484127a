// Thumbnails of image attachments for Mailpit's /part/{PartID}/thumb: a 180×120 JPEG on white.
// Large images are cropped to fill the box, small ones are centred without enlargement; anything
// that is not a decodable image gets a blank thumbnail, as in Mailpit. sharp (libvips) decodes on
// libuv's thread pool, so the event loop never waits on it.
import type { Sharp, SharpOptions } from 'sharp';

type SharpFactory = (input?: Uint8Array | Buffer | SharpOptions, options?: SharpOptions) => Sharp;

/** libvips costs tens of MB of memory once loaded, so it is loaded on the first thumbnail. */
let loaded: Promise<SharpFactory> | null = null;
function loadSharp(): Promise<SharpFactory> {
  loaded ??= import('sharp').then((m) => m.default as unknown as SharpFactory);
  return loaded;
}

export const THUMB_WIDTH = 180;
export const THUMB_HEIGHT = 120;

/** Images with more pixels than this are not decoded (decompression bombs). */
const MAX_INPUT_PIXELS = 50_000_000;

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };

let blank: Promise<Buffer> | null = null;

export function blankThumbnail(): Promise<Buffer> {
  blank ??= loadSharp().then((sharp) =>
    sharp({ create: { width: THUMB_WIDTH, height: THUMB_HEIGHT, channels: 3, background: WHITE } })
      .jpeg({ quality: 80 })
      .toBuffer(),
  );
  return blank;
}

export async function thumbnail(content: Uint8Array, contentType: string): Promise<Buffer> {
  if (!contentType.toLowerCase().startsWith('image/')) return blankThumbnail();
  const sharp = await loadSharp();
  try {
    const image = sharp(content, {
      limitInputPixels: MAX_INPUT_PIXELS,
      failOn: 'error',
      animated: false,
    }).rotate();
    const meta = await image.metadata();
    const small = (meta.width ?? 0) < THUMB_WIDTH || (meta.height ?? 0) < THUMB_HEIGHT;
    return await image
      .resize(THUMB_WIDTH, THUMB_HEIGHT, {
        fit: small ? 'inside' : 'cover',
        withoutEnlargement: small,
        background: WHITE,
      })
      .flatten({ background: WHITE })
      .toBuffer({ resolveWithObject: true })
      .then(async ({ data, info }) => {
        if (info.width === THUMB_WIDTH && info.height === THUMB_HEIGHT) {
          return sharp(data).jpeg({ quality: 80 }).toBuffer();
        }
        // A small image sits in the middle of the white box.
        return sharp({ create: { width: THUMB_WIDTH, height: THUMB_HEIGHT, channels: 3, background: WHITE } })
          .composite([{ input: data, gravity: 'centre' }])
          .jpeg({ quality: 80 })
          .toBuffer();
      });
  } catch {
    return blankThumbnail();
  }
}
