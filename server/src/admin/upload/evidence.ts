// The consent evidence file (a signed form, a photo of it, a recording of the subject saying it): stored as it came,
// never opened, converted or served inline. Only its kind is checked, from its bytes, so that what is archived is
// what it claims to be.
import { UploadRejected } from './upload-error.js';

const KINDS: { mediaType: string; test: (b: Buffer) => boolean }[] = [
  { mediaType: 'application/pdf', test: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
  { mediaType: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')) },
  { mediaType: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    mediaType: 'audio/wav',
    test: (b) => b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WAVE',
  },
  { mediaType: 'video/mp4', test: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp' },
  { mediaType: 'video/webm', test: (b) => b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3 },
  {
    mediaType: 'text/plain',
    // UTF-8 text with no control characters but tab, CR, LF (a typed statement, an e-mail).
    test: (b) => !b.some((c) => (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) && isUtf8(b),
  },
];

function isUtf8(b: Buffer): boolean {
  try {
    // stream: a multi-byte character cut by the end of the sniffed bytes is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** The evidence's media type from its first bytes (up to 4 KiB), or a rejection. */
export function evidenceType(head: Buffer): string {
  if (head.length === 0) throw new UploadRejected('bad-request', 'the consent evidence file is empty');
  const kind = KINDS.find((k) => k.test(head));
  if (!kind)
    throw new UploadRejected(
      'bad-type',
      'the consent evidence must be a PDF, PNG, JPEG, WAV, MP4, WebM or plain-text file',
    );
  return kind.mediaType;
}
